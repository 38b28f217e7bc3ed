"""Rules: create, read, update, toggle, delete; invalid rules refused when saved."""

import json
from typing import Any

import pytest

from app.db import connection, placeholders
from app.encoding import JsonValue
from app.models import Channel, Condition, Operator, Priority, Rule, RuleAction
from app.settings import Settings
from tests.delivery.helpers import Receiver
from tests.helpers import Api, TenantAccess, make_tenant, make_user
from tests.services.test_events import drain

FIELDS = """
id name enabled events conditionLogic cadence lastTriggeredAt
conditions { field operator value } actions { channel recipients }
"""
CREATE = f"mutation($input: RuleInput!) {{ createRule(input: $input) {{ {FIELDS} }} }}"
UPDATE = f"""
mutation($id: ID!, $input: RuleUpdateInput!) {{ updateRule(id: $id, input: $input) {{ {FIELDS} }} }}
"""
TOGGLE = "mutation($id: ID!) { toggleRule(id: $id) { enabled } }"
DELETE = "mutation($id: ID!) { deleteRule(id: $id) }"
ONE = f"query($id: ID!) {{ rule(id: $id) {{ {FIELDS} }} }}"

FAILED_LOGINS: dict[str, Any] = {
    "name": "Alert on failed logins",
    "events": ["auth.login_failed"],
    "conditionLogic": "AND",
    "conditions": [{"field": "ipAddress", "operator": "not_in", "value": ["192.168.1.0/24"]}],
    "actions": [{"channel": "EMAIL", "recipients": ["admin@example.com", "role:ADMIN"]}],
}


async def test_a_rule_is_created_read_updated_toggled_and_deleted(api: Api) -> None:
    tenant = await make_tenant()

    created = (await api.data(CREATE, {"input": FAILED_LOGINS}, token=tenant.api_key))["createRule"]
    rule_id = created["id"]
    updated = (
        await api.data(
            UPDATE,
            {"id": rule_id, "input": {"name": "Renamed", "events": ["auth.*"], "cadence": "DAILY"}},
            token=tenant.api_key,
        )
    )["updateRule"]
    toggled = (await api.data(TOGGLE, {"id": rule_id}, token=tenant.api_key))["toggleRule"]
    read = (await api.data(ONE, {"id": rule_id}, token=tenant.api_key))["rule"]
    deleted = await api.data(DELETE, {"id": rule_id}, token=tenant.api_key)
    gone = await api.error(ONE, {"id": rule_id}, token=tenant.api_key)

    assert created["enabled"] is True and created["cadence"] == "INSTANT"
    assert created["conditions"] == FAILED_LOGINS["conditions"]
    assert created["actions"] == FAILED_LOGINS["actions"] and created["lastTriggeredAt"] is None
    assert (updated["name"], updated["events"], updated["cadence"]) == (
        "Renamed",
        ["auth.*"],
        "DAILY",
    )
    assert updated["conditions"] == created["conditions"]  # left out, so unchanged
    assert toggled == {"enabled": False} and read["enabled"] is False
    assert deleted["deleteRule"] is True and gone["extensions"]["code"] == "NOT_FOUND"


LOOKS = {
    **FAILED_LOGINS,
    "actions": [
        {
            "channel": "IN_APP",
            "recipients": ["role:ADMIN"],
            "priority": "HIGH",
            "tags": ["security", "security"],
            "actions": [{"id": "open", "label": "Open", "url": "/security"}],
            "expiresInSeconds": 3600,
            "collapseKey": "logins",
        },
        {"channel": "WEBHOOK"},
    ],
}


async def stored_json(rule_id: str) -> tuple[JsonValue, JsonValue]:
    """A rule's conditions and actions as its row holds them."""
    conn = connection()
    [row] = await conn.execute_query_dict(
        f"SELECT conditions, actions FROM rules WHERE id = {placeholders(conn, 1)[0]}", [rule_id]
    )
    return json.loads(row["conditions"]), json.loads(row["actions"])


async def test_a_rule_is_kept_in_the_json_earlier_releases_read(api: Api) -> None:
    # Given a tenant
    tenant = await make_tenant()

    # When it saves a rule whose first action sets how its notifications look
    created = (await api.data(CREATE, {"input": LOOKS}, token=tenant.api_key))["createRule"]

    # Then its row holds the JSON that releases before records were read from it wrote
    conditions, actions = await stored_json(created["id"])
    assert conditions == [{"field": "ipAddress", "operator": "not_in", "value": ["192.168.1.0/24"]}]
    assert actions == [
        {
            "channel": "IN_APP",
            "recipients": ["role:ADMIN"],
            "priority": "HIGH",
            "tags": ["security"],
            "actions": [{"id": "open", "label": "Open", "url": "/security", "primary": False}],
            "expires_in_seconds": 3600,
            "collapse_key": "logins",
        },
        {"channel": "WEBHOOK", "recipients": []},
    ]


async def test_a_rules_conditions_and_actions_are_read_as_records(api: Api) -> None:
    # Given a saved rule
    tenant = await make_tenant()
    created = (await api.data(CREATE, {"input": LOOKS}, token=tenant.api_key))["createRule"]

    # When its row is read
    rule = await Rule.get(id=created["id"])

    # Then its conditions and actions are records, each setting what the rule set
    assert rule.conditions == [Condition("ipAddress", Operator.NOT_IN, ["192.168.1.0/24"])]
    assert rule.actions == [
        RuleAction(
            Channel.IN_APP,
            recipients=["role:ADMIN"],
            priority=Priority.HIGH,
            tags=["security"],
            actions=[{"id": "open", "label": "Open", "url": "/security", "primary": False}],
            expires_in_seconds=3600,
            collapse_key="logins",
        ),
        RuleAction(Channel.WEBHOOK),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"events": []}, "events"),
        ({"events": ["not a type"]}, "events[0]"),
        ({"actions": []}, "actions"),
        ({"actions": [{"channel": "EMAIL", "recipients": []}]}, "actions[0].recipients"),
        ({"actions": [{"channel": "EMAIL", "recipients": ["role:KING"]}]}, "actions[0].recipients"),
        (
            {"conditions": [{"field": "ip", "operator": "near", "value": 1}]},
            "conditions[0].operator",
        ),
        (
            {"conditions": [{"field": "ip", "operator": "in", "value": ["1.2.3.0/99"]}]},
            "conditions[0].value",
        ),
        ({"conditions": [{"field": "n", "operator": "gt", "value": "x"}]}, "conditions[0].value"),
        (
            {"conditions": [{"field": "n", "operator": "eq", "value": "x" * 70_000}]},
            "conditions[0].value",
        ),
    ],
)
async def test_a_rule_that_cannot_be_evaluated_is_refused_when_saved(
    api: Api, change, field
) -> None:
    tenant = await make_tenant()

    error = await api.error(CREATE, {"input": {**FAILED_LOGINS, **change}}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert (await api.data("{ rules { id } }", token=tenant.api_key))["rules"] == []


async def test_rules_are_the_tenants_own(api: Api) -> None:
    ours, theirs = await make_tenant("Ours"), await make_tenant("Theirs")
    rule_id = (await api.data(CREATE, {"input": FAILED_LOGINS}, token=ours.api_key))["createRule"][
        "id"
    ]
    their_admin = await make_user(api, theirs, "a", role="ADMIN")

    listed = await api.data("{ rules { id } }", token=their_admin.token)
    toggle = await api.error(TOGGLE, {"id": rule_id}, token=theirs.api_key)

    assert listed["rules"] == [] and toggle["extensions"]["code"] == "NOT_FOUND"
    assert (await api.data(ONE, {"id": rule_id}, token=ours.api_key))["rule"]["enabled"] is True


@pytest.mark.parametrize(
    ("channel", "recipient"),
    [
        ("IN_APP", "oncall@example.com"),
        ("SMS", "oncall@example.com"),
        ("IN_APP", "+15550100"),
        ("EMAIL", "+15550100"),
    ],
)
async def test_an_action_that_cannot_reach_its_recipient_is_refused(
    api: Api, channel: str, recipient: str
) -> None:
    tenant = await make_tenant()
    actions = [
        {"channel": "EMAIL", "recipients": ["role:ADMIN"]},
        {"channel": channel, "recipients": ["alice", recipient]},
    ]

    error = await api.error(
        CREATE, {"input": {**FAILED_LOGINS, "actions": actions}}, token=tenant.api_key
    )

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "actions[1].recipients"}
    assert f"a {channel} action cannot reach {recipient!r}" in error["message"]


async def test_a_recipient_longer_than_publishing_takes_is_refused(api: Api) -> None:
    tenant = await make_tenant()
    actions = [{"channel": "IN_APP", "recipients": ["u" * 201]}]

    error = await api.error(
        CREATE, {"input": {**FAILED_LOGINS, "actions": actions}}, token=tenant.api_key
    )

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "actions[0].recipients"}


async def test_numbers_without_a_plus_are_user_ids(api: Api) -> None:
    tenant = await make_tenant()
    actions = [{"channel": "IN_APP", "recipients": ["1042"]}]

    created = await api.data(
        CREATE, {"input": {**FAILED_LOGINS, "actions": actions}}, token=tenant.api_key
    )

    assert created["createRule"]["actions"] == actions


async def test_a_condition_value_that_is_not_a_finite_number_is_refused(api: Api) -> None:
    tenant = await make_tenant()
    rule = {**FAILED_LOGINS, "conditions": [{"field": "score", "operator": "gt", "value": 0}]}
    body = json.dumps({"query": CREATE, "variables": {"input": rule}}).replace(
        '"value": 0', '"value": Infinity'
    )

    response = await api.raw(body, token=tenant.api_key)

    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "conditions[0].value"}
    assert "Infinity" in error["message"]


# --- Endpoint channels: the channel's own target, whatever the recipients ----------------------

PUBLISH_EVENT = "mutation($input: PublishEventInput!) { publishEvent(input: $input) { count } }"
CONFIGURE_WEBHOOK = """
mutation($input: ChannelConfigInput!) { updateChannel(channel: WEBHOOK, input: $input) { ready } }
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_private_targets": True})  # the loopback receiver


async def webhook_to(api: Api, tenant: TenantAccess, receiver: Receiver) -> None:
    config = {"url": f"{receiver.url}/hook"}
    await api.data(
        CONFIGURE_WEBHOOK, {"input": {"enabled": True, "config": config}}, token=tenant.api_key
    )


async def failed_login(api: Api, tenant: TenantAccess) -> int:
    event = {"type": "auth.login_failed", "payload": {"ipAddress": "203.0.113.9"}}
    count: int = (await api.data(PUBLISH_EVENT, {"input": event}, token=tenant.api_key))[
        "publishEvent"
    ]["count"]
    return count


@pytest.mark.parametrize("recipients", [{}, {"recipients": []}], ids=["none", "empty"])
async def test_a_webhook_action_without_recipients_is_saved_and_fires(
    api: Api, settings: Settings, tenant: TenantAccess, receiver: Receiver, recipients
) -> None:
    # Given a webhook channel on the receiver
    await webhook_to(api, tenant, receiver)

    # When a rule posts failed logins to it, naming no one, and a failed login comes
    action = {"channel": "WEBHOOK", **recipients}
    created = await api.data(
        CREATE, {"input": {**FAILED_LOGINS, "actions": [action]}}, token=tenant.api_key
    )
    count = await failed_login(api, tenant)
    await drain(settings)

    # Then the rule holds no recipients and the webhook got the event
    assert created["createRule"]["actions"] == [{"channel": "WEBHOOK", "recipients": []}]
    assert count == 1
    assert receiver.only.json()["type"] == "auth.login_failed"


@pytest.mark.parametrize("channel", ["IN_APP", "EMAIL", "SMS"])
async def test_an_action_for_people_without_recipients_is_refused_naming_the_field(
    api: Api, tenant: TenantAccess, channel: str
) -> None:
    # Given an action on a channel that reaches people, naming none
    actions = [{"channel": "WEBHOOK"}, {"channel": channel}]

    # When it is saved
    error = await api.error(
        CREATE, {"input": {**FAILED_LOGINS, "actions": actions}}, token=tenant.api_key
    )

    # Then it is refused, naming the action's recipients, and nothing is saved
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "actions[1].recipients"}
    assert (await api.data("{ rules { id } }", token=tenant.api_key))["rules"] == []


async def test_a_webhook_rule_saved_with_recipients_still_loads_saves_and_fires(
    api: Api, settings: Settings, tenant: TenantAccess, receiver: Receiver
) -> None:
    # Given a webhook rule stored as earlier releases stored one, with the recipients they
    # required
    await webhook_to(api, tenant, receiver)
    held: list[JsonValue] = [{"channel": "WEBHOOK", "recipients": ["#security", "role:ADMIN"]}]
    rule = await Rule.create(
        tenant_id=tenant.tenant_id,
        name="Failed login",
        events=["auth.*"],
        actions=[RuleAction.from_json(action) for action in held],
    )

    # When it is read, saved again as read, and a failed login comes
    read = (await api.data(ONE, {"id": str(rule.id)}, token=tenant.api_key))["rule"]
    saved = await api.data(
        UPDATE, {"id": str(rule.id), "input": {"actions": read["actions"]}}, token=tenant.api_key
    )
    count = await failed_login(api, tenant)
    await drain(settings)

    # Then it kept its recipients throughout, and the webhook got the event
    assert read["actions"] == held and saved["updateRule"]["actions"] == held
    assert count == 1
    assert receiver.only.json()["data"]["ruleId"] == str(rule.id)


def buttons_on_the_second_action(url: str) -> list[dict[str, Any]]:
    """Two actions; the second's second button goes to `url`."""
    buttons = [
        {"id": "open", "label": "Open", "url": "/security"},
        {"id": "x", "label": "X", "url": url},
    ]
    return [
        {"channel": "EMAIL", "recipients": ["role:ADMIN"]},
        {"channel": "IN_APP", "recipients": ["role:ADMIN"], "actions": buttons},
    ]


@pytest.mark.parametrize("url", ["javascript:alert(document.domain)", "//evil.example/x"])
async def test_a_rule_whose_button_has_an_unsafe_url_is_refused_when_created(
    api: Api, url: str
) -> None:
    # Given a rule whose second action has a button to script or another site
    tenant = await make_tenant()
    rule = {**FAILED_LOGINS, "actions": buttons_on_the_second_action(url)}

    # When it is created
    error = await api.error(CREATE, {"input": rule}, token=tenant.api_key)

    # Then it is refused naming the action and the button, and no rule is saved
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "actions[1].actions[1].url"}
    assert (await api.data("{ rules { id } }", token=tenant.api_key))["rules"] == []


async def test_a_rule_whose_button_has_an_unsafe_url_is_refused_when_updated(api: Api) -> None:
    # Given a saved rule
    tenant = await make_tenant()
    saved = await api.data(CREATE, {"input": FAILED_LOGINS}, token=tenant.api_key)
    rule_id = saved["createRule"]["id"]

    # When it is updated with a button whose url runs script
    actions = buttons_on_the_second_action("javascript:alert(document.domain)")
    error = await api.error(
        UPDATE, {"id": rule_id, "input": {"actions": actions}}, token=tenant.api_key
    )

    # Then the update is refused naming the button, and the rule keeps its actions
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "actions[1].actions[1].url"}
    kept = await api.data(ONE, {"id": rule_id}, token=tenant.api_key)
    assert kept["rule"]["actions"] == FAILED_LOGINS["actions"]
