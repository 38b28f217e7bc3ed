"""Events run the tenant's rules: matching, role recipients, raw addresses, the log's rule."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.delivery.worker import Worker
from app.models import Event
from app.services import retention
from app.settings import Settings
from tests.delivery.helpers import Mailbox
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
