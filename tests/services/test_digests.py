"""Digests: a window's events become one message per recipient, sent exactly once."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from app import clock as app_clock
from app.models import Cadence, Channel, Digest, Event, Rule, RuleAction
from app.services import digest_windows, digests
from app.settings import Settings
from tests.conftest import Clock
from tests.delivery.helpers import Receiver
from tests.helpers import Api, TenantAccess, make_tenant, make_user
from tests.services.test_events import drain

CREATE_RULE = "mutation($input: RuleInput!) { createRule(input: $input) { id } }"
PUBLISH_EVENT = "mutation($input: PublishEventInput!) { publishEvent(input: $input) { count } }"
INBOX = "{ notifications { edges { node { title body data category } } } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The webhook receiver is on loopback, where a channel may only be saved when allowed.
    return settings.model_copy(update={"allow_private_targets": True})


async def given_hourly_rule(api: Api) -> tuple[TenantAccess, Any, Any]:
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "adm", role="ADMIN")
    owner = await make_user(api, tenant, "own", role="OWNER")
    rule = {
        "name": "Failed logins",
        "events": ["auth.login_failed"],
        "cadence": "HOURLY",
        "actions": [{"channel": "IN_APP", "recipients": ["role:ADMIN", "own"]}],
    }
    await api.data(CREATE_RULE, {"input": rule}, token=tenant.api_key)
    return tenant, admin, owner


@pytest.fixture(autouse=True)
def mid_window(clock: Clock) -> None:
    """Half past the hour, so that the events of a test fall in one hourly window."""
    clock.set(digest_windows.window_end(Cadence.HOURLY, app_clock.now()) + timedelta(minutes=30))


async def send_events(api: Api, tenant: TenantAccess, count: int) -> None:
    for i in range(count):
        variables = {
            "input": {"type": "auth.login_failed", "payload": {"n": i, "link": "/security"}}
        }
        assert (await api.data(PUBLISH_EVENT, variables, token=tenant.api_key))["publishEvent"][
            "count"
        ] == 0


async def window_over(tenant: TenantAccess) -> datetime:
    digest = await Digest.filter(tenant_id=tenant.tenant_id).first()
    assert digest is not None
    return digest.window_end + timedelta(seconds=1)


async def test_fifty_events_become_one_message_per_recipient(api: Api, clock: Clock) -> None:
    tenant, admin, owner = await given_hourly_rule(api)
    await send_events(api, tenant, 50)

    early = await digests.flush_due()
    clock.set(await window_over(tenant))
    sent = await digests.flush_due()
    again = await digests.flush_due(now=app_clock.now() + timedelta(hours=2))

    assert (early, sent, again) == (0, 1, 0)
    for user in (admin, owner):
        [edge] = (await api.data(INBOX, token=user.token))["notifications"]["edges"]
        node = edge["node"]
        assert node["title"] == "Failed logins: 50 events"
        assert node["body"].count("\n") == 5 and node["body"].endswith("... and 45 more")
        assert node["data"]["digest"]["count"] == 50
        assert len(node["data"]["digest"]["eventIds"]) == 50
    assert await Event.filter(tenant_id=tenant.tenant_id).count() == 50


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_several_workers_send_a_digest_exactly_once(api: Api) -> None:
    tenant, admin, _ = await given_hourly_rule(api)
    await send_events(api, tenant, 50)
    due = await window_over(tenant)

    results = await asyncio.gather(*(digests.flush_due(now=due) for _ in range(4)))

    assert sorted(results) == [0, 0, 0, 1]
    assert len((await api.data(INBOX, token=admin.token))["notifications"]["edges"]) == 1


async def test_a_digest_to_an_endpoint_carries_the_link_and_data(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given an hourly rule posting to the tenant's webhook, and two events with a link
    tenant = await make_tenant()
    await api.data(
        "mutation($input: ChannelConfigInput!) { updateChannel(channel: WEBHOOK, input: $input) "
        "{ ready } }",
        {"input": {"enabled": True, "config": {"url": f"{receiver.url}/hook"}}},
        token=tenant.api_key,
    )
    rule = {
        "name": "Failed logins",
        "events": ["auth.login_failed"],
        "cadence": "HOURLY",
        "actions": [{"channel": "WEBHOOK", "recipients": ["#security"]}],
    }
    await api.data(CREATE_RULE, {"input": rule}, token=tenant.api_key)
    await send_events(api, tenant, 2)

    # when the window ends and the worker sends
    await digests.flush_due(now=await window_over(tenant))
    await drain(settings)

    # then the webhook gets the digest's link and data, as an inbox would
    body = receiver.only.json()["data"]
    assert body["title"] == "Failed logins: 2 events"
    assert body["link"] == "/security"
    assert body["data"]["digest"]["count"] == 2


async def send_events_linking(api: Api, tenant: TenantAccess, links: list[str]) -> None:
    for link in links:
        variables = {"input": {"type": "auth.login_failed", "payload": {"link": link}}}
        await api.data(PUBLISH_EVENT, variables, token=tenant.api_key)


@pytest.mark.parametrize(
    ("links", "carried"),
    [
        (["javascript:alert(document.domain)", "//evil.example/x"], None),
        (["javascript:alert(document.domain)", "/security"], "/security"),
    ],
    ids=["none-safe", "a-later-one-safe"],
)
async def test_a_digest_carries_no_unsafe_link(
    api: Api, links: list[str], carried: str | None
) -> None:
    # Given an hourly rule, and events whose first link would run script
    tenant, admin, _ = await given_hourly_rule(api)
    await send_events_linking(api, tenant, links)

    # When the window ends
    sent = await digests.flush_due(now=await window_over(tenant))

    # Then the digest is sent, linking to the first safe link of its events, if any
    assert sent == 1
    inbox = await api.data("{ notifications { edges { node { title link } } } }", token=admin.token)
    assert [e["node"] for e in inbox["notifications"]["edges"]] == [
        {"title": "Failed logins: 2 events", "link": carried}
    ]


async def test_a_digest_that_cannot_be_written_is_sent_to_no_one_and_recorded_as_failed(
    api: Api,
) -> None:
    # given an hourly rule stored before recipients were checked: u3, then one that cannot be
    tenant = await make_tenant()
    u3 = await make_user(api, tenant, "u3")
    await Rule.create(
        tenant_id=tenant.tenant_id,
        name="Broken",
        events=["auth.login_failed"],
        cadence=Cadence.HOURLY,
        actions=[
            RuleAction(Channel.IN_APP, recipients=["u3"]),
            RuleAction(Channel.IN_APP, recipients=["x" * 250]),
        ],
    )
    await send_events(api, tenant, 2)
    due = await window_over(tenant)

    # when three runs try to flush it
    sent = [await digests.flush_due(now=due + timedelta(minutes=i)) for i in range(3)]

    # then no partial digest went out, and the digest is given up with the reason
    assert sent == [0, 0, 0]
    assert (await api.data(INBOX, token=u3.token))["notifications"]["edges"] == []
    digest = await Digest.get(tenant_id=tenant.tenant_id)
    assert digest.attempts == 3 and digest.failed_at is not None
    assert digest.last_error is not None and "recipients" in digest.last_error


async def test_a_failing_digest_does_not_hold_up_the_others(api: Api) -> None:
    tenant, admin, _ = await given_hourly_rule(api)
    await Rule.create(
        tenant_id=tenant.tenant_id,
        name="Broken",
        events=["auth.login_failed"],
        cadence=Cadence.HOURLY,
        actions=[RuleAction(Channel.IN_APP, recipients=["x" * 250])],
    )
    await send_events(api, tenant, 1)

    sent = await digests.flush_due(now=await window_over(tenant))

    assert sent == 1
    assert len((await api.data(INBOX, token=admin.token))["notifications"]["edges"]) == 1
