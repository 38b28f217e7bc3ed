"""Publishing with a sendAt: kept aside and out of every count, then published at that time,
once, however many workers run; listed and cancellable until then."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app import clock as app_clock
from app.models import Notification, ScheduledNotification
from app.services import scheduling
from app.settings import Settings
from tests.conftest import Clock, _empty_all_tables, serving
from tests.helpers import (
    PUBLISH,
    Api,
    TenantAccess,
    UserAccess,
    erase_user,
    make_tenant,
    make_user,
    publish,
)

SCHEDULED = """
query($after: String) {
  scheduledNotifications(first: 2, after: $after) {
    totalCount
    edges { node { id recipient category title priority sendAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CANCEL = "mutation($id: ID!) { cancelScheduledNotification(id: $id) }"
INBOX = "{ unreadCount notifications { edges { node { id title } } } }"


def ahead(**delta: float) -> datetime:
    return app_clock.now() + timedelta(**delta)


async def schedule(
    api: Api, tenant: TenantAccess, recipients: list[str], send_at: datetime, **extra: Any
) -> list[str]:
    result = await publish(api, tenant, recipients, sendAt=send_at.isoformat(), **extra)
    ids: list[str] = result["notificationIds"]
    return ids


async def inbox(api: Api, user: UserAccess) -> tuple[int, list[str]]:
    data = await api.data(INBOX, token=user.token)
    return data["unreadCount"], [e["node"]["title"] for e in data["notifications"]["edges"]]


async def test_a_scheduled_notification_waits_out_of_sight_then_goes_with_its_id(
    api, tenant, alice, clock: Clock
) -> None:
    # given a notification for alice half an hour from now (her token lives an hour)
    send_at = ahead(minutes=30)
    [nid] = await schedule(api, tenant, ["alice"], send_at, title="later", priority="HIGH")

    # then it is in no inbox and no count, but listed for the API key
    assert await inbox(api, alice) == (0, [])
    listed = (await api.data(SCHEDULED, token=tenant.api_key))["scheduledNotifications"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"] == {
        "id": nid,
        "recipient": "alice",
        "category": "billing.low_balance",
        "title": "later",
        "priority": "HIGH",
        "sendAt": send_at.isoformat(),
    }
    assert await scheduling.release_due() == 0  # not yet

    # when its time comes
    clock.set(send_at + timedelta(seconds=1))
    released = await scheduling.release_due()

    # then it is published, under the id given at once, and no longer listed
    assert released == 1
    assert await inbox(api, alice) == (1, ["later"])
    stored = await Notification.get(id=nid)
    assert stored.created_at >= send_at  # published as at that moment
    listed = (await api.data(SCHEDULED, token=tenant.api_key))["scheduledNotifications"]
    assert listed["totalCount"] == 0


async def test_links_scheduled_before_they_were_checked_are_not_sent(
    api, tenant, alice, clock: Clock
) -> None:
    # Given a notification scheduled before links were checked, linking to script, with a
    # button to another site and one to a path here
    send_at = ahead(hours=1)
    [nid] = await schedule(api, tenant, ["alice"], send_at)
    row = await ScheduledNotification.get(id=nid)
    buttons = [
        {"id": "away", "label": "Away", "url": "//evil.example/x", "primary": False},
        {"id": "open", "label": "Open", "url": "/calls/1", "primary": True},
    ]
    content = {**row.content, "link": "javascript:alert(document.domain)", "actions": buttons}
    await ScheduledNotification.filter(id=nid).update(content=content)

    # When its time comes
    clock.set(send_at + timedelta(seconds=1))
    assert await scheduling.release_due() == 1

    # Then it goes without the unsafe link and url, and keeps the safe one
    sent = await Notification.get(id=nid)
    assert sent.link is None
    assert [(a["id"], a["url"]) for a in sent.actions or ()] == [
        ("away", None),
        ("open", "/calls/1"),
    ]


async def test_a_publish_to_many_goes_together_and_pages_by_send_time(
    api, tenant, clock: Clock
) -> None:
    late, soon = ahead(hours=3), ahead(hours=2)
    await schedule(api, tenant, ["carol"], late)
    await schedule(api, tenant, ["alice", "bob"], soon)

    first = (await api.data(SCHEDULED, token=tenant.api_key))["scheduledNotifications"]
    cursor = first["pageInfo"]["endCursor"]
    rest = (await api.data(SCHEDULED, {"after": cursor}, token=tenant.api_key))[
        "scheduledNotifications"
    ]

    listed = [e["node"]["recipient"] for e in [*first["edges"], *rest["edges"]]]
    assert sorted(listed[:2]) == ["alice", "bob"] and listed[2] == "carol"
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)
    clock.set(soon + timedelta(seconds=1))
    assert await scheduling.release_due() == 2


async def test_cancelling_before_it_goes_and_after(api, tenant, alice, clock: Clock) -> None:
    send_at = ahead(minutes=5)
    [kept, cancelled] = [await schedule(api, tenant, ["alice"], send_at) for _ in range(2)]

    before = await api.data(CANCEL, {"id": cancelled[0]}, token=tenant.api_key)
    clock.set(send_at + timedelta(seconds=1))
    await scheduling.release_due()
    after = await api.data(CANCEL, {"id": kept[0]}, token=tenant.api_key)
    again = await api.call(CANCEL, {"id": cancelled[0]}, token=tenant.api_key)

    assert before == {"cancelScheduledNotification": True}
    assert after == {"cancelScheduledNotification": False}  # it already went
    assert again["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await inbox(api, alice) == (1, ["Your balance is getting low"])


async def test_another_tenants_scheduled_notification_is_not_found(api, tenant) -> None:
    [nid] = await schedule(api, tenant, ["alice"], ahead(hours=1))
    other = await make_tenant("Other")

    body = await api.call(CANCEL, {"id": nid}, token=other.api_key)
    listed = await api.data(SCHEDULED, token=other.api_key)

    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert listed["scheduledNotifications"]["totalCount"] == 0
    assert await ScheduledNotification.filter(id=nid).exists()


async def test_cancelling_by_what_is_not_an_id_is_bad_user_input_and_keeps_it(api, tenant) -> None:
    # Given a scheduled notification
    await schedule(api, tenant, ["alice"], ahead(hours=1))

    # When the tenant cancels something that is not an id
    error = await api.error(CANCEL, {"id": "<id>"}, token=tenant.api_key)

    # Then the id is named as the mistake, and the notification is still scheduled
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    listed = await api.data(SCHEDULED, token=tenant.api_key)
    assert listed["scheduledNotifications"]["totalCount"] == 1


@pytest.mark.parametrize(
    ("send_in_hours", "expires_in_hours", "title", "field"),
    [
        (366 * 24, None, "t", "sendAt"),  # more than a year ahead
        (2, 1, "t", "expiresAt"),  # expires before it goes
        (2, None, "", "title"),
    ],
)
async def test_bad_scheduling_is_refused_and_nothing_is_kept(
    api, tenant, send_in_hours: float, expires_in_hours: float | None, title: str, field: str
) -> None:
    expires = ahead(hours=expires_in_hours).isoformat() if expires_in_hours else None
    variables = {
        "input": {
            "recipients": ["alice"],
            "category": "billing.low_balance",
            "title": title,
            "sendAt": ahead(hours=send_in_hours).isoformat(),
            "expiresAt": expires,
        }
    }

    body = await api.call(PUBLISH, variables, token=tenant.api_key)

    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert not await ScheduledNotification.exists()


async def test_a_retry_with_the_same_key_is_the_same_scheduled_notification(
    api, tenant, clock: Clock
) -> None:
    send_at = ahead(hours=1)
    first = await publish(api, tenant, ["alice"], sendAt=send_at.isoformat(), idempotencyKey="k")
    retry = await publish(api, tenant, ["alice"], sendAt=send_at.isoformat(), idempotencyKey="k")
    clock.set(send_at + timedelta(seconds=1))
    await scheduling.release_due()
    after = await publish(api, tenant, ["alice"], idempotencyKey="k")  # sent by now

    assert (retry["duplicate"], retry["notificationIds"]) == (True, first["notificationIds"])
    assert (after["duplicate"], after["notificationIds"]) == (True, first["notificationIds"])
    assert await Notification.filter(idempotency_key="k").count() == 1


async def test_erasing_a_user_erases_what_was_scheduled_for_them(api, tenant, alice) -> None:
    await schedule(api, tenant, ["alice"], ahead(hours=1))

    assert await erase_user(api, tenant.api_key, "alice")

    assert not await ScheduledNotification.exists()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # two workers' row locks
async def test_two_workers_release_each_scheduled_notification_once(
    api, tenant, clock: Clock, database_url
) -> None:
    # given ten publishes to three users each, all due
    send_at = ahead(minutes=1)
    ids = []
    for i in range(10):
        ids += await schedule(api, tenant, ["alice", "bob", "carol"], send_at, title=f"n{i}")
    clock.set(send_at + timedelta(seconds=1))

    # when two workers release at once
    released = await asyncio.gather(*(scheduling.release_due() for _ in range(2)))

    # then every notification went once, under its own id
    assert sum(released) == 30
    stored = await Notification.filter(tenant_id=tenant.tenant_id).values_list("id", flat=True)
    assert sorted(str(i) for i in stored) == sorted(ids)
    assert not await ScheduledNotification.exists()


async def test_a_restarted_server_sends_what_was_scheduled_before(
    settings: Settings, clock: Clock
) -> None:
    # given a notification scheduled through a server that then stops
    send_at = ahead(minutes=10)
    async with serving(settings) as first, httpx.AsyncClient(base_url=first.http_url) as client:
        await _empty_all_tables()
        api = Api(client)
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        [nid] = await schedule(api, tenant, ["alice"], send_at, title="after the restart")

    # when a new server with its jobs starts once the time has come
    clock.set(send_at + timedelta(seconds=1))
    jobs = settings.model_copy(update={"embedded_jobs": True, "schedule_interval_seconds": 0.05})
    async with serving(jobs) as second, httpx.AsyncClient(base_url=second.http_url) as client:
        api = Api(client)
        for _ in range(200):
            if (found := await inbox(api, alice))[0]:
                break
            await asyncio.sleep(0.05)

        # then it went, under its id
        assert found == (1, ["after the restart"])
        assert await Notification.exists(id=nid)
