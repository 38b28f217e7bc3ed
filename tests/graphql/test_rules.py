"""Rules: create, read, update, toggle, delete; invalid rules refused when saved."""

import json
from typing import Any

import pytest

from tests.helpers import Api, make_tenant, make_user

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
