"""Events run the tenant's rules: matching, role recipients, raw addresses, the log's rule."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.delivery.worker import Worker
from app.models import ActionJson, Channel, Event, Rule, RuleAction
from app.services import retention
from app.settings import Settings
from tests.conftest import LiveServer
from tests.delivery.helpers import Mailbox, Receiver
from tests.graphql.test_subscriptions import subscribed
from tests.helpers import Api, TenantAccess, make_tenant, make_user

PUBLISH_EVENT = """
mutation($input: PublishEventInput!) {
  publishEvent(input: $input) { count notificationIds duplicate }
}
"""
CREATE_RULE = "mutation($input: RuleInput!) { createRule(input: $input) { id lastTriggeredAt } }"
RULE = "query($id: ID!) { rule(id: $id) { lastTriggeredAt } }"
LOG = """
query($filter: DeliveryFilter) {
  deliveries(filter: $filter) {
    totalCount edges { node { channel status ruleId ruleName notification { title } } }
  }
}
"""
INBOX = "{ notifications { edges { node { title category body } } } }"
UPDATE_CHANNEL = """
mutation($input: ChannelConfigInput!) { updateChannel(channel: CHANNEL, input: $input) { ready } }
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_private_targets": True})


async def email_tenant(api: Api, port: int) -> TenantAccess:
    tenant = await make_tenant(free_categories=False)
    config = {"host": "127.0.0.1", "port": port, "from": "alerts@example.com", "tls": False}
    await api.data(
        UPDATE_CHANNEL.replace("CHANNEL", "EMAIL"),
        {"input": {"enabled": True, "config": config}},
        token=tenant.api_key,
    )
    return tenant


def failed_login_rule(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Failed login",
        "events": ["auth.*"],
        "conditions": [{"field": "ipAddress", "operator": "not_in", "value": ["192.168.1.0/24"]}],
        "actions": [{"channel": "EMAIL", "recipients": ["role:ADMIN", "security@example.com"]}],
        **changes,
    }


async def event(api: Api, tenant: TenantAccess, ip: str, **extra: Any) -> dict[str, Any]:
    variables = {"input": {"type": "auth.login_failed", "payload": {"ipAddress": ip}, **extra}}
    result: dict[str, Any] = (await api.data(PUBLISH_EVENT, variables, token=tenant.api_key))[
        "publishEvent"
    ]
    return result


async def drain(settings: Settings) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        worker = Worker(settings, http)
        while await worker.run_once():
            pass


async def test_a_matching_event_notifies_the_roles_members_and_raw_addresses(
    api: Api, settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    tenant = await email_tenant(api, port)
    admin = await make_user(api, tenant, "adm", role="ADMIN", email="adm@example.com")
    member = await make_user(api, tenant, "mem", email="mem@example.com")
    rule = (await api.data(CREATE_RULE, {"input": failed_login_rule()}, token=tenant.api_key))[
        "createRule"
    ]

    result = await event(api, tenant, "203.0.113.9")
    await drain(settings)

    assert result["count"] == 2 and len(result["notificationIds"]) == 1
    [note] = (await api.data(INBOX, token=admin.token))["notifications"]["edges"]
    assert (
        note["node"]["title"] == "Failed login" and note["node"]["category"] == "auth.login_failed"
    )
    assert (await api.data(INBOX, token=member.token))["notifications"]["edges"] == []
    assert sorted(e.rcpt_tos[0] for e in mailbox.envelopes) == [
        "adm@example.com",
        "security@example.com",
    ]
    logged = await api.data(
        LOG, {"filter": {"ruleId": rule["id"], "channel": "EMAIL"}}, token=tenant.api_key
    )
    assert logged["deliveries"]["totalCount"] == 2
    assert {e["node"]["status"] for e in logged["deliveries"]["edges"]} == {"SENT"}
    assert {e["node"]["ruleName"] for e in logged["deliveries"]["edges"]} == {"Failed login"}
    assert (await api.data(RULE, {"id": rule["id"]}, token=tenant.api_key))["rule"][
        "lastTriggeredAt"
    ]


async def test_an_event_the_conditions_exclude_notifies_no_one(api: Api, smtp) -> None:
    _, port = smtp
    tenant = await email_tenant(api, port)
    await make_user(api, tenant, "adm", role="ADMIN", email="adm@example.com")
    rule = (await api.data(CREATE_RULE, {"input": failed_login_rule()}, token=tenant.api_key))[
        "createRule"
    ]

    result = await event(api, tenant, "192.168.1.20")

    assert result == {"count": 0, "notificationIds": [], "duplicate": False}
    assert (await api.data(RULE, {"id": rule["id"]}, token=tenant.api_key))["rule"][
        "lastTriggeredAt"
    ] is None


async def test_a_disabled_rule_does_nothing_and_roles_are_read_when_the_event_comes(
    api: Api, smtp
) -> None:
    _, port = smtp
    tenant = await email_tenant(api, port)
    rule = (
        await api.data(
            CREATE_RULE, {"input": failed_login_rule(enabled=False)}, token=tenant.api_key
        )
    )["createRule"]
    promoted = await make_user(api, tenant, "late", email="late@example.com")

    disabled = await event(api, tenant, "203.0.113.9")
    await api.data(
        "mutation($id: ID!) { toggleRule(id: $id) { enabled } }",
        {"id": rule["id"]},
        token=tenant.api_key,
    )
    await api.data(
        'mutation { upsertUser(input: {externalId: "late", role: ADMIN}) { role } }',
        token=tenant.api_key,
    )
    enabled = await event(api, tenant, "203.0.113.9")

    assert disabled["count"] == 0
    assert enabled["count"] == 2
    assert len((await api.data(INBOX, token=promoted.token))["notifications"]["edges"]) == 1


async def test_a_retried_event_is_not_run_twice(api: Api, smtp) -> None:
    _, port = smtp
    tenant = await email_tenant(api, port)
    await make_user(api, tenant, "adm", role="ADMIN", email="adm@example.com")
    await api.data(CREATE_RULE, {"input": failed_login_rule()}, token=tenant.api_key)

    first = await event(api, tenant, "203.0.113.9", idempotencyKey="evt-1")
    again = await event(api, tenant, "203.0.113.9", idempotencyKey="evt-1")

    assert first["duplicate"] is False and again["duplicate"] is True
    assert again["notificationIds"] == first["notificationIds"]


async def test_an_endpoint_action_goes_to_the_channel_itself(
    api: Api, settings: Settings, receiver
) -> None:
    tenant = await make_tenant(free_categories=False)
    await api.data(
        UPDATE_CHANNEL.replace("CHANNEL", "SLACK"),
        {"input": {"enabled": True, "config": {"webhookUrl": f"{receiver.url}/slack"}}},
        token=tenant.api_key,
    )
    await api.data(
        CREATE_RULE,
        {"input": failed_login_rule(actions=[{"channel": "SLACK", "recipients": ["#security"]}])},
        token=tenant.api_key,
    )

    result = await event(api, tenant, "203.0.113.9")
    await drain(settings)

    assert result["count"] == 1
    assert "Failed login" in receiver.only.json()["text"]


async def test_event_types_are_checked(api: Api) -> None:
    tenant = await make_tenant()

    error = await api.error(PUBLISH_EVENT, {"input": {"type": "not a type"}}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "type"}


async def test_events_past_the_retention_are_purged(api: Api) -> None:
    tenant = await make_tenant()
    await event(api, tenant, "203.0.113.9")
    await event(api, tenant, "203.0.113.10")
    old = await Event.filter(tenant_id=tenant.tenant_id).order_by("id").first()
    assert old is not None
    await Event.filter(id=old.id).update(created_at=datetime.now(UTC) - timedelta(days=91))

    purged = await retention.purge_old_events()

    assert purged == 1 and await Event.filter(tenant_id=tenant.tenant_id).count() == 1


# --- Every path delivers the same notification -------------------------------------------

LOGIN_WITH_LINK = {"ipAddress": "203.0.113.9", "link": "https://app.example/sec/1"}


async def endpoint_rule(api: Api, receiver: Receiver, channel: str, **rule: Any) -> TenantAccess:
    """A tenant whose failed-login rule goes to `channel`'s endpoint on the receiver."""
    tenant = await make_tenant(free_categories=False)
    configs = {
        "WEBHOOK": {"url": f"{receiver.url}/hook"},
        "SLACK": {"webhookUrl": f"{receiver.url}/slack"},
        "TELEGRAM": {"botToken": "1:abc", "chatId": 5, "apiBaseUrl": receiver.url},
    }
    await api.data(
        UPDATE_CHANNEL.replace("CHANNEL", channel),
        {"input": {"enabled": True, "config": configs[channel]}},
        token=tenant.api_key,
    )
    actions = [{"channel": channel, "recipients": ["#security"]}]
    await api.data(
        CREATE_RULE, {"input": failed_login_rule(actions=actions, **rule)}, token=tenant.api_key
    )
    return tenant


async def test_a_rules_webhook_carries_the_events_link_and_data(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given a rule that posts failed logins to the tenant's webhook
    tenant = await endpoint_rule(api, receiver, "WEBHOOK")

    # when an event with a link comes and the worker sends
    await event(api, tenant, "203.0.113.9", payload=LOGIN_WITH_LINK)
    await drain(settings)

    # then the webhook gets the same shape a published notification gives it
    body = receiver.only.json()
    assert body["type"] == "auth.login_failed"
    assert body["data"]["title"] == "Failed login"
    assert body["data"]["link"] == "https://app.example/sec/1"
    assert body["data"]["data"] == LOGIN_WITH_LINK
    assert body["data"]["ruleId"] is not None and body["data"]["notificationId"] is None


@pytest.mark.parametrize("channel", ["SLACK", "TELEGRAM"])
async def test_a_rules_chat_message_carries_the_link(
    api: Api, settings: Settings, receiver: Receiver, channel: str
) -> None:
    tenant = await endpoint_rule(api, receiver, channel)

    await event(api, tenant, "203.0.113.9", payload=LOGIN_WITH_LINK)
    await drain(settings)

    # the summary quotes the payload too: the link must come as a line of its own
    assert receiver.only.json()["text"].splitlines()[-1] == "https://app.example/sec/1"


async def test_a_rules_email_to_a_raw_address_carries_the_link(
    api: Api, settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    tenant = await email_tenant(api, port)
    await api.data(CREATE_RULE, {"input": failed_login_rule()}, token=tenant.api_key)

    await event(api, tenant, "203.0.113.9", payload=LOGIN_WITH_LINK)
    await drain(settings)

    message = mailbox.received()
    assert message["To"] == "security@example.com"
    plain = message.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "https://app.example/sec/1" in text.splitlines()


async def test_an_instant_rule_links_the_inbox_notification(api: Api) -> None:
    # given an admin whom a failed-login rule notifies in the inbox
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "adm", role="ADMIN")
    actions = [{"channel": "IN_APP", "recipients": ["role:ADMIN"]}]
    await api.data(CREATE_RULE, {"input": failed_login_rule(actions=actions)}, token=tenant.api_key)

    # when an event with a link comes
    await event(api, tenant, "203.0.113.9", payload=LOGIN_WITH_LINK)

    # then the notification links where the event said, as a digest's would
    inbox = await api.data("{ notifications { edges { node { link } } } }", token=admin.token)
    assert [e["node"]["link"] for e in inbox["notifications"]["edges"]] == [
        "https://app.example/sec/1"
    ]


@pytest.mark.parametrize(
    "link", ["javascript:alert(document.domain)", "//evil.example/x", "java\tscript:alert(1)"]
)
async def test_an_event_whose_link_is_unsafe_notifies_without_a_link(api: Api, link: str) -> None:
    # Given an admin whom a failed-login rule notifies in the inbox
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "adm", role="ADMIN")
    actions = [{"channel": "IN_APP", "recipients": ["role:ADMIN"]}]
    await api.data(CREATE_RULE, {"input": failed_login_rule(actions=actions)}, token=tenant.api_key)

    # When an event comes whose link would run script or leave for another site
    await event(api, tenant, "203.0.113.9", payload={"ipAddress": "203.0.113.9", "link": link})

    # Then the notification still arrives, with no link
    inbox = await api.data("{ notifications { edges { node { title link } } } }", token=admin.token)
    assert [e["node"] for e in inbox["notifications"]["edges"]] == [
        {"title": "Failed login", "link": None}
    ]


async def test_a_button_url_saved_before_links_were_checked_is_not_sent(api: Api) -> None:
    # Given a rule stored before button urls were checked, with a javascript: one
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "adm", role="ADMIN")
    buttons: list[ActionJson] = [
        {"id": "run", "label": "Run", "url": "javascript:alert(document.domain)", "primary": False},
        {"id": "open", "label": "Open", "url": "/security", "primary": False},
    ]
    await Rule.create(
        tenant_id=tenant.tenant_id,
        name="Old",
        events=["auth.*"],
        actions=[RuleAction(Channel.IN_APP, recipients=["role:ADMIN"], actions=buttons)],
    )

    # When the event comes
    await event(api, tenant, "203.0.113.9")

    # Then the notification has both buttons, the unsafe one without its url
    inbox = await api.data(
        "{ notifications { edges { node { actions { id url } } } } }", token=admin.token
    )
    [edge] = inbox["notifications"]["edges"]
    assert edge["node"]["actions"] == [
        {"id": "run", "url": None},
        {"id": "open", "url": "/security"},
    ]


async def test_the_email_rate_limit_holds_for_a_raw_address(
    api: Api, settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    # given a rule emailing on-call for a category limited to one email a day
    mailbox, port = smtp
    tenant = await email_tenant(api, port)
    rule = {
        "name": "Agent down",
        "events": ["agent.failed"],
        "actions": [{"channel": "EMAIL", "recipients": ["oncall@example.com"]}],
    }
    await api.data(CREATE_RULE, {"input": rule}, token=tenant.api_key)

    # when the agent fails three times
    for _ in range(3):
        await api.data(PUBLISH_EVENT, {"input": {"type": "agent.failed"}}, token=tenant.api_key)
    await drain(settings)

    # then on-call gets one email and the log says why the others were held
    assert [e.rcpt_tos for e in mailbox.envelopes] == [["oncall@example.com"]]
    logged = await api.data(LOG, {"filter": {"channel": "EMAIL"}}, token=tenant.api_key)
    statuses = sorted(e["node"]["status"] for e in logged["deliveries"]["edges"])
    assert statuses == ["SENT", "SUPPRESSED", "SUPPRESSED"]


async def test_a_replayed_event_answers_as_the_first_time(api: Api, smtp) -> None:
    # given a rule that notifies an admin and emails a raw address
    _, port = smtp
    tenant = await email_tenant(api, port)
    await make_user(api, tenant, "adm", role="ADMIN", email="adm@example.com")
    await api.data(CREATE_RULE, {"input": failed_login_rule()}, token=tenant.api_key)

    # when the same event is sent twice with one key
    first = await event(api, tenant, "203.0.113.9", idempotencyKey="evt-9")
    again = await event(api, tenant, "203.0.113.9", idempotencyKey="evt-9")

    # then the replay answers with the first result, marked as a duplicate
    assert first["count"] == 2 and first["duplicate"] is False
    assert again == {**first, "duplicate": True}


async def test_an_event_that_fails_leaves_nothing_and_can_be_sent_again(api: Api) -> None:
    # given a rule stored before recipients were checked, whose second action cannot publish
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "adm", role="ADMIN")
    rule = await Rule.create(
        tenant_id=tenant.tenant_id,
        name="Broken",
        events=["auth.*"],
        actions=[
            RuleAction(Channel.IN_APP, recipients=["role:ADMIN"]),
            RuleAction(Channel.IN_APP, recipients=["x" * 250]),
        ],
    )

    # when the event comes, and again once the rule is mended
    refused = await api.error(
        PUBLISH_EVENT,
        {"input": {"type": "auth.login_failed", "idempotencyKey": "evt-5"}},
        token=tenant.api_key,
    )
    empty = await api.data(INBOX, token=admin.token)
    await Rule.filter(id=rule.id).update(actions=rule.actions[:1])
    retried = await event(api, tenant, "203.0.113.9", idempotencyKey="evt-5")

    # then the failed event wrote nothing, and its retry ran
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert empty["notifications"]["edges"] == []
    assert retried["duplicate"] is False and retried["count"] == 1
    assert len((await api.data(INBOX, token=admin.token))["notifications"]["edges"]) == 1


async def test_a_rules_endpoint_delivery_is_announced_when_queued(
    server: LiveServer, live_api: Api, receiver: Receiver
) -> None:
    # given an admin watching the tenant's deliveries
    tenant = await endpoint_rule(live_api, receiver, "WEBHOOK")
    admin = await make_user(live_api, tenant, "adm", role="ADMIN")
    status = "subscription { deliveryStatus { channel status ruleId } }"
    async with subscribed(server, admin.token, status) as (socket, op):
        # when the rule fires
        await event(live_api, tenant, "203.0.113.9")

        # then its webhook delivery shows up as queued at once
        queued = (await socket.next(op))["deliveryStatus"]
    assert queued["channel"] == "WEBHOOK" and queued["status"] == "QUEUED"
    assert queued["ruleId"] is not None


# --- what a rule's action sets on its notifications -----------------------------------------

LOOKED = """
{ notifications { edges { node {
  title priority tags actions { id label } expiresAt collapseKey occurrences
} } } }
"""


async def test_a_rules_action_sets_priority_tags_buttons_expiry_and_collapsing(api: Api) -> None:
    # given a rule whose in-app action sets every notification setting
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")
    action = {
        "channel": "IN_APP",
        "recipients": ["alice"],
        "priority": "HIGH",
        "tags": ["security", "security "],
        "actions": [{"id": "review", "label": "Review"}],
        "expiresInSeconds": 3600,
        "collapseKey": "logins",
    }
    created = await api.data(
        CREATE_RULE, {"input": failed_login_rule(actions=[action])}, token=tenant.api_key
    )
    shown = await api.data(
        "query($id: ID!) { rule(id: $id) { actions { priority tags expiresInSeconds } } }",
        {"id": created["createRule"]["id"]},
        token=tenant.api_key,
    )

    # when the event comes twice
    await event(api, tenant, "10.0.0.1")
    await event(api, tenant, "10.0.0.2")

    # then the rule shows them, and alice has one notification, collapsed, carrying them
    assert shown["rule"]["actions"] == [
        {"priority": "HIGH", "tags": ["security"], "expiresInSeconds": 3600}
    ]
    [edge] = (await api.data(LOOKED, token=alice.token))["notifications"]["edges"]
    node = edge["node"]
    assert (node["priority"], node["tags"], node["collapseKey"], node["occurrences"]) == (
        "HIGH",
        ["security"],
        "logins",
        2,
    )
    assert node["actions"] == [{"id": "review", "label": "Review"}]
    expires = datetime.fromisoformat(node["expiresAt"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tags": ["x" * 51]}, "actions[0].tags"),
        ({"actions": [{"id": "a", "label": ""}]}, "actions[0].actions[0].label"),
        ({"expiresInSeconds": 0}, "actions[0].expiresInSeconds"),
        ({"collapseKey": "k" * 101}, "actions[0].collapseKey"),
    ],
    ids=["tag", "button", "expiry", "collapse-key"],
)
async def test_a_rules_bad_notification_settings_are_refused(
    api: Api, change: dict[str, Any], field: str
) -> None:
    tenant = await make_tenant()
    action = {"channel": "IN_APP", "recipients": ["alice"], **change}

    body = await api.call(
        CREATE_RULE, {"input": failed_login_rule(actions=[action])}, token=tenant.api_key
    )

    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
