"""Quiet hours end to end: set by the user, held in the log, sent by the worker when they
end, in order, to a real SMTP server; in-app arrives at once, marked quiet on the socket."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.delivery.worker import Worker, claim
from app.models import Delivery
from app.settings import Settings
from tests.conftest import Clock, LiveServer
from tests.delivery.test_worker import TENANT_PREF, drain, email_tenant
from tests.graphql.test_subscriptions import inbox_event, subscribed
from tests.helpers import (
    ISSUE_TOKEN,
    Api,
    TenantAccess,
    UserAccess,
    make_tenant,
    make_user,
    publish,
)

SET_QUIET = """
mutation($input: QuietHoursInput!) {
  updateMyQuietHours(input: $input) { start end timezone days enabled }
}
"""
VIEWER = "{ viewer { timezone quietHours { start end timezone days enabled } } }"
HELD_LOG = """
query {
  deliveries(filter: {channel: EMAIL}) {
    edges { node { status nextAttemptAt notification { title } } }
  }
}
"""
CATEGORY = "call.daily_summary"  # not critical: email only where the tenant turns it on
CRITICAL = "billing.payment_failed"
# 23:30 in Berlin (UTC+1) on Wednesday 14 January 2026; the night ends at 07:00, 06:00 UTC.
LATE = datetime(2026, 1, 14, 22, 30, tzinfo=UTC)
MORNING = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
NIGHT = {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_private_targets": True})  # SMTP on loopback


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[Worker]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield Worker(settings, http)


async def emailing_tenant(api: Api, port: int) -> TenantAccess:
    tenant = await email_tenant(api, port)
    for category in (CATEGORY, CRITICAL):
        pref = {"category": category, "email": True}
        await api.data(TENANT_PREF, {"input": pref}, token=tenant.api_key)
    return tenant


async def quiet_at_night(api: Api, port: int, clock: Clock) -> tuple[TenantAccess, UserAccess]:
    """A tenant that emails, and alice, whose nights are quiet, at 23:30 her time (the clock
    set first: her token is minted then)."""
    clock.set(LATE)
    tenant = await emailing_tenant(api, port)
    alice = await make_user(api, tenant, "alice", email="alice@example.com")
    await set_quiet(api, alice, **NIGHT)
    return tenant, alice


async def set_quiet(api: Api, user: UserAccess, **hours: Any) -> dict[str, Any]:
    result = await api.data(SET_QUIET, {"input": hours}, token=user.token)
    found: dict[str, Any] = result["updateMyQuietHours"]
    return found


async def email_log(api: Api, tenant: TenantAccess) -> list[dict[str, Any]]:
    data = await api.data(HELD_LOG, token=tenant.api_key)
    return [edge["node"] for edge in data["deliveries"]["edges"]]


@pytest.fixture
async def tokyo_user(api: Api) -> UserAccess:
    return await make_user(api, await make_tenant(), "alice", timezone="Asia/Tokyo")


async def test_a_user_sets_quiet_hours_and_reads_them_back(api: Api, tokyo_user) -> None:
    alice = tokyo_user
    before = await api.data(VIEWER, token=alice.token)

    saved = await set_quiet(api, alice, start="22:00", end="07:30", days=["FRIDAY", "MONDAY"])

    assert before["viewer"]["quietHours"] is None
    assert saved == {
        "start": "22:00",
        "end": "07:30",
        "timezone": "Asia/Tokyo",  # the user's own, when none is given
        "days": ["MONDAY", "FRIDAY"],
        "enabled": True,
    }
    assert (await api.data(VIEWER, token=alice.token))["viewer"]["quietHours"] == saved


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"start": "22:00", "end": "7:00"}, "end"),
        ({"start": "24:00", "end": "07:00"}, "start"),
        ({"start": "22:00", "end": "22:00"}, "end"),
        ({"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}, "timezone"),
        ({"start": "22:00", "end": "07:00", "timezone": "x" * 10_000}, "timezone"),
        ({"start": "22:00", "end": "07:00", "timezone": "Europe"}, "timezone"),  # a folder
        ({"start": "22:00", "end": "07:00", "days": []}, "days"),
    ],
)
async def test_bad_quiet_hours_are_refused_and_nothing_changes(
    api: Api, tokyo_user, hours: dict[str, Any], field: str
) -> None:
    alice = tokyo_user

    body = await api.call(SET_QUIET, {"input": hours}, token=alice.token)

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert (await api.data(VIEWER, token=alice.token))["viewer"]["quietHours"] is None


async def test_a_users_own_timezone_that_names_a_folder_is_followed_as_utc(api: Api) -> None:
    # Given a user whose host application stored "Europe" as their timezone (a folder of the
    # timezone database, not a zone)
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice", timezone="Europe")

    # When she sets quiet hours that follow her own timezone, and is published to
    saved = await set_quiet(api, alice, start="22:00", end="07:00")
    published = await publish(api, tenant, ["alice"])

    # Then they follow UTC, and the publish reaches her
    assert saved["timezone"] == "UTC"
    assert published["count"] == 1


async def test_a_held_delivery_is_not_deleted_and_the_refusal_says_held(
    api: Api, worker: Worker, smtp, clock: Clock
) -> None:
    # Given an email held until alice's night ends
    _, port = smtp
    tenant, _ = await quiet_at_night(api, port, clock)
    await publish(api, tenant, ["alice"], category=CATEGORY)
    await drain(worker)
    [held] = await Delivery.filter(status="HELD")

    # When it is deleted, alone or by status
    one = await api.error(
        "mutation($id: ID!) { deleteDelivery(id: $id) }", {"id": str(held.id)}, token=tenant.api_key
    )
    many = await api.error(
        "mutation { deleteDeliveries(filter: {status: HELD}) { deleted } }", token=tenant.api_key
    )

    # Then both refusals say it is held, and it is still there
    assert one["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert one["message"].startswith("A HELD delivery cannot be deleted")
    assert many["message"].startswith("HELD deliveries cannot be deleted")
    assert await Delivery.exists(id=held.id, status="HELD")


async def test_email_inside_quiet_hours_is_held_then_sent_in_order_when_they_end(
    api: Api, worker: Worker, smtp, clock: Clock
) -> None:
    # given alice, whose nights are quiet, at 23:30 her time
    mailbox, port = smtp
    tenant, alice = await quiet_at_night(api, port, clock)

    # when two notifications are published and the worker runs
    for title in ("first", "second"):
        await publish(api, tenant, ["alice"], category=CATEGORY, title=title)
    await drain(worker)

    # then both emails wait in the log until 07:00 her time, and she has both in her inbox
    held = await email_log(api, tenant)
    assert [(d["status"], d["nextAttemptAt"]) for d in held] == [
        ("HELD", "2026-01-15T06:00:00+00:00")
    ] * 2
    assert mailbox.envelopes == []
    inbox = await api.data("{ unreadCount }", token=alice.token)
    assert inbox["unreadCount"] == 2

    # and when the night ends, workers take them in the order they were made, and send them
    clock.set(MORNING)
    taken = [await claim(1, lease=timedelta(seconds=30)) for _ in range(2)]
    titles = [[d.notification.title for d in t if d.notification] for t in taken]
    assert titles == [["first"], ["second"]]
    await Delivery.filter(id__in=[t[0].id for t in taken]).update(lease_until=LATE)
    await drain(worker)  # takes them again, their leases over
    subjects = {e.content.split(b"Subject: ")[1].split(b"\r\n")[0] for e in mailbox.envelopes}
    assert subjects == {b"first", b"second"}
    assert {d["status"] for d in await email_log(api, tenant)} == {"SENT"}


async def test_critical_and_urgent_go_through_quiet_hours(
    api: Api, worker: Worker, smtp, clock: Clock
) -> None:
    mailbox, port = smtp
    tenant, _ = await quiet_at_night(api, port, clock)

    await publish(api, tenant, ["alice"], category=CRITICAL, title="critical")
    await publish(api, tenant, ["alice"], category=CATEGORY, title="urgent", priority="URGENT")
    await publish(api, tenant, ["alice"], category=CATEGORY, title="can wait")
    await drain(worker)

    log = {d["notification"]["title"]: d["status"] for d in await email_log(api, tenant)}
    assert log == {"critical": "SENT", "urgent": "SENT", "can wait": "HELD"}
    assert len(mailbox.envelopes) == 2


async def test_disabled_quiet_hours_or_a_day_off_hold_nothing(
    api: Api, worker: Worker, smtp, clock: Clock
) -> None:
    _, port = smtp
    clock.set(LATE)
    tenant = await emailing_tenant(api, port)
    alice = await make_user(api, tenant, "alice", email="alice@example.com")
    bob = await make_user(api, tenant, "bob", email="bob@example.com")
    await set_quiet(api, alice, **NIGHT, enabled=False)
    await set_quiet(api, bob, **NIGHT, days=["SATURDAY", "SUNDAY"])  # a Wednesday night

    await publish(api, tenant, ["alice", "bob"], category=CATEGORY)

    assert {d["status"] for d in await email_log(api, tenant)} == {"QUEUED"}


async def test_in_app_arrives_at_once_marked_quiet(
    server: LiveServer, live_api: Api, clock: Clock
) -> None:
    clock.set(LATE - timedelta(hours=1))  # the evening: her token is minted then
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant, "alice")
    await set_quiet(live_api, alice, **NIGHT)
    variables = {"externalId": "alice", "ttl": 24 * 3600}  # her socket lives into the morning
    issued = await live_api.data(ISSUE_TOKEN, variables, token=tenant.api_key)
    query = "subscription { inbox { kind quiet notification { title } } }"
    async with subscribed(server, issued["issueUserToken"]["token"], query) as (socket, op):
        assert (await inbox_event(socket, op))["kind"] == "SYNC"
        clock.set(LATE)
        await publish(live_api, tenant, ["alice"], title="at night")
        await publish(live_api, tenant, ["alice"], title="urgent", priority="URGENT")
        clock.set(MORNING)
        await publish(live_api, tenant, ["alice"], title="in the morning")

        events = [await inbox_event(socket, op) for _ in range(3)]

    assert [(e["notification"]["title"], e["quiet"]) for e in events] == [
        ("at night", True),
        ("urgent", False),
        ("in the morning", False),
    ]
