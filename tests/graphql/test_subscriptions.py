"""Live inbox and badge updates through a real websocket client against a real server."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.live import topics
from app.live.hub import hub
from app.models import Notification, User
from app.services import inbox_clock, publishing
from app.settings import Settings
from tests.conftest import LiveServer, RedisServer, serving, serving_on_redis
from tests.helpers import Api, TenantAccess, UserAccess, make_tenant, make_user, publish
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

INBOX = """
subscription {
  inbox { kind unreadCount notificationIds all category notification { id title isRead } }
}
"""
UNREAD = "subscription($category: String) { unreadCount(category: $category) }"
MARK_ONE = "mutation($id: ID!) { markNotificationRead(id: $id) }"
MARK_MANY = "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { marked } }"
MARK_ALL = "mutation($c: String) { markAllNotificationsRead(category: $c) { marked } }"
SET_READ = (
    "mutation($id: ID!, $read: Boolean!) { setNotificationRead(id: $id, read: $read) { id } }"
)
DELETE_ONE = "mutation($id: ID!) { deleteNotification(id: $id) }"
DELETE_READ = "mutation { deleteReadNotifications { deleted } }"


@asynccontextmanager
async def subscribed(
    server: LiveServer,
    token: str,
    query: str = INBOX,
    variables: dict[str, Any] | None = None,
    protocol: str = TRANSPORT_WS,
) -> AsyncIterator[tuple[GraphQLSocket, str]]:
    socket = await GraphQLSocket.open(server.ws_url, token, protocol)
    try:
        await socket.acknowledged()
        yield socket, await socket.subscribe(query, variables)
    finally:
        await socket.close()


async def inbox_event(socket: GraphQLSocket, op: str, timeout: float = 5) -> dict[str, Any]:
    event: dict[str, Any] = (await socket.next(op, timeout))["inbox"]
    return event


@pytest.fixture
async def tenant(server: LiveServer) -> TenantAccess:
    return await make_tenant()


@pytest.fixture
async def alice(live_api: Api, tenant: TenantAccess) -> UserAccess:
    return await make_user(live_api, tenant, "alice")


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_inbox_starts_with_the_current_state_then_streams_each_change(
    server, live_api, tenant, alice, protocol
) -> None:
    await publish(live_api, tenant, ["alice"], title="before")
    async with subscribed(server, alice.token, protocol=protocol) as (socket, op):
        sync = await inbox_event(socket, op)

        created = (await publish(live_api, tenant, ["alice"], title="live"))["notificationIds"][0]
        on_create = await inbox_event(socket, op)
        await live_api.data(MARK_ONE, {"id": created}, token=alice.token)
        on_read = await inbox_event(socket, op)
        await live_api.data(DELETE_ONE, {"id": created}, token=alice.token)
        on_delete = await inbox_event(socket, op)

    assert sync == {
        "kind": "SYNC",
        "unreadCount": 1,
        "notificationIds": [],
        "all": False,
        "category": None,
        "notification": None,
    }
    assert on_create["kind"] == "CREATED" and on_create["unreadCount"] == 2
    assert on_create["notification"] == {"id": created, "title": "live", "isRead": False}
    assert on_read["kind"] == "UPDATED" and on_read["unreadCount"] == 1
    assert on_read["notificationIds"] == [created] and on_read["notification"]["isRead"] is True
    assert on_delete["kind"] == "DELETED" and on_delete["notificationIds"] == [created]
    assert on_delete["unreadCount"] == 1


async def test_bulk_changes_arrive_as_one_event_each(server, live_api, tenant, alice) -> None:
    ids = [
        (await publish(live_api, tenant, ["alice"], category=c))["notificationIds"][0]
        for c in ("a.b", "a.b", "c.d", "c.d")
    ]
    async with subscribed(server, alice.token) as (socket, op):
        await inbox_event(socket, op)  # SYNC

        await live_api.data(MARK_MANY, {"ids": ids[:2]}, token=alice.token)
        many = await inbox_event(socket, op)
        await live_api.data(MARK_ALL, {"c": "c.d"}, token=alice.token)
        every = await inbox_event(socket, op)
        await live_api.data(SET_READ, {"id": ids[0], "read": False}, token=alice.token)
        unread_again = await inbox_event(socket, op)
        await live_api.data(DELETE_READ, token=alice.token)
        deleted = await inbox_event(socket, op)

    assert (many["kind"], sorted(many["notificationIds"]), many["unreadCount"]) == (
        "UPDATED",
        sorted(ids[:2]),
        2,
    )
    assert (every["kind"], every["all"], every["category"], every["unreadCount"]) == (
        "UPDATED",
        True,
        "c.d",
        0,
    )
    assert unread_again["notification"] == {
        "id": ids[0],
        "title": unread_again["notification"]["title"],
        "isRead": False,
    }
    assert unread_again["unreadCount"] == 1
    assert (deleted["kind"], deleted["all"], deleted["unreadCount"]) == ("DELETED", True, 1)


async def test_unread_count_emits_now_then_each_new_value(server, live_api, tenant, alice) -> None:
    [first] = (await publish(live_api, tenant, ["alice"]))["notificationIds"]
    async with subscribed(server, alice.token, UNREAD) as (socket, op):
        initial = (await socket.next(op))["unreadCount"]
        await publish(live_api, tenant, ["alice"])
        after_publish = (await socket.next(op))["unreadCount"]
        await live_api.data(MARK_ONE, {"id": first}, token=alice.token)
        after_read = (await socket.next(op))["unreadCount"]
        await live_api.data(DELETE_READ, token=alice.token)  # no unread change: no frame
        quiet = await socket.nothing_within(0.3)

    assert (initial, after_publish, after_read, quiet) == (1, 2, 1, True)


async def test_unread_count_for_one_category_ignores_the_others(
    server, live_api, tenant, alice
) -> None:
    async with subscribed(server, alice.token, UNREAD, {"category": "agent.failed"}) as (
        socket,
        op,
    ):
        initial = (await socket.next(op))["unreadCount"]
        await publish(live_api, tenant, ["alice"], category="billing.low_balance")
        quiet = await socket.nothing_within(0.3)
        await publish(live_api, tenant, ["alice"], category="agent.failed")
        after = (await socket.next(op))["unreadCount"]
        await live_api.data(MARK_ALL, {}, token=alice.token)
        cleared = (await socket.next(op))["unreadCount"]

    assert (initial, quiet, after, cleared) == (0, True, 1, 0)


async def test_two_tabs_of_one_user_stay_in_step(server, live_api, tenant, alice) -> None:
    [nid] = (await publish(live_api, tenant, ["alice"]))["notificationIds"]
    async with (
        subscribed(server, alice.token) as (tab1, op1),
        subscribed(server, alice.token, UNREAD) as (tab2, op2),
    ):
        await inbox_event(tab1, op1)
        await tab2.next(op2)

        await live_api.data(MARK_ONE, {"id": nid}, token=alice.token)

        assert (await inbox_event(tab1, op1))["unreadCount"] == 0
        assert (await tab2.next(op2))["unreadCount"] == 0


async def test_other_users_and_tenants_receive_nothing(server, live_api, tenant, alice) -> None:
    bob = await make_user(live_api, tenant, "bob")
    other = await make_tenant("Other")
    other_alice = await make_user(live_api, other, "alice")
    async with (
        subscribed(server, bob.token) as (bob_socket, bob_op),
        subscribed(server, other_alice.token) as (other_socket, other_op),
        subscribed(server, alice.token) as (alice_socket, alice_op),
    ):
        for socket, op in (
            (bob_socket, bob_op),
            (other_socket, other_op),
            (alice_socket, alice_op),
        ):
            await inbox_event(socket, op)

        await publish(live_api, tenant, ["alice"])

        assert (await inbox_event(alice_socket, alice_op))["kind"] == "CREATED"
        assert await bob_socket.nothing_within(0.3)
        assert await other_socket.nothing_within(0.1)


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "not-a-token", "bfk_unknown"])
async def test_transport_ws_closes_4403_without_valid_credentials(server, token) -> None:
    socket = await GraphQLSocket.open(server.ws_url, token, TRANSPORT_WS)

    with pytest.raises(ConnectionClosed) as closed:
        await socket.receive()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_legacy_ws_reports_a_connection_error_without_valid_credentials(server) -> None:
    socket = await GraphQLSocket.open(server.ws_url, "not-a-token", LEGACY_WS)

    message = await socket.receive()

    assert message["type"] == "connection_error"
    assert message["payload"]["code"] == "UNAUTHENTICATED"


async def test_subscribing_before_the_handshake_closes_4401(
    server, live_api, tenant, alice
) -> None:
    socket = GraphQLSocket(
        await __import__("websockets").connect(server.ws_url, subprotocols=[TRANSPORT_WS]),
        TRANSPORT_WS,
    )
    await socket.subscribe(INBOX)

    with pytest.raises(ConnectionClosed) as closed:
        await socket.receive()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_api_keys_cannot_watch_an_inbox(server, tenant) -> None:
    async with subscribed(server, tenant.api_key) as (socket, op):
        message = await socket.result()

    assert message["type"] == "error" and message["id"] == op
    assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"


# --- resources -----------------------------------------------------------------------------


async def wait_until(condition: Any, timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_an_abrupt_disconnect_leaves_nothing_behind(server, alice, protocol) -> None:
    tasks_before = len(asyncio.all_tasks())
    subscribers_before = hub().subscriber_count()  # the process's own, such as erasures
    sockets = server.app.state.connections
    socket = await GraphQLSocket.open(server.ws_url, alice.token, protocol)
    await socket.acknowledged()
    op = await socket.subscribe(INBOX)
    await socket.next(op)
    assert hub().subscriber_count() == subscribers_before + 1
    assert len(sockets) == 1

    socket.connection.transport.abort()  # no close frame, as when a laptop lid shuts

    await wait_until(lambda: hub().subscriber_count() == subscribers_before)
    await wait_until(lambda: len(sockets) == 0)
    await wait_until(lambda: len(asyncio.all_tasks()) <= tasks_before)


def tiny_receive_buffer(server: LiveServer) -> socket.socket:
    """A client socket that holds little unread data, so a stalled reader pushes back fast."""
    host, port = server.http_url.removeprefix("http://").split(":")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((host, int(port)))
    raw.setblocking(False)
    return raw


async def publish_direct(tenant: TenantAccess, recipients: list[str], body: str = "") -> None:
    draft = publishing.NotificationDraft(category="a.b", title="flood", body=body)
    await publishing.publish_notification(
        tenant_id=UUID(tenant.tenant_id), recipients=recipients, draft=draft
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_reader_that_stops_costs_bounded_memory_and_slows_no_one(
    settings: Settings, server, live_api, tenant, alice
) -> None:
    bob = await make_user(live_api, tenant, "bob")
    stalled = await GraphQLSocket.open(
        server.ws_url, alice.token, sock=tiny_receive_buffer(server), max_queue=1
    )
    await stalled.acknowledged()
    stalled_op = await stalled.subscribe(
        "subscription { inbox { kind unreadCount notification { body } } }"
    )
    await stalled.next(stalled_op)
    alice_id = (await User.get(tenant_id=tenant.tenant_id, external_id="alice")).id
    [alice_queue] = hub()._channels[topics.INBOX.channel(tenant.tenant_id)].by_key[str(alice_id)]
    deepest = 0
    async with subscribed(server, bob.token, UNREAD) as (healthy, healthy_op):
        await healthy.next(healthy_op)

        # alice's socket is not read while 1,000 notifications of 4 KiB reach her
        for i in range(1000):
            await publish_direct(tenant, ["alice"], body="x" * 4096)
            deepest = max(deepest, alice_queue.pending())
            if i % 250 == 0:
                await publish_direct(tenant, ["bob"])
                assert (await healthy.next(healthy_op, timeout=2))["unreadCount"] == i // 250 + 1

    assert deepest <= settings.subscriber_queue_limit
    assert alice_queue.overflows > 0
    # once she reads again, a SYNC tells her the true count
    while (event := await inbox_event(stalled, stalled_op))["kind"] != "SYNC":
        pass
    assert event["unreadCount"] == 1000
    await stalled.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_after_a_redis_restart_the_same_subscriber_catches_up(
    settings: Settings, own_redis: RedisServer
) -> None:
    async with serving_on_redis(settings, own_redis) as (live, api):
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        async with (
            subscribed(live, alice.token, UNREAD) as (badge, badge_op),
            subscribed(live, alice.token) as (feed, feed_op),
        ):
            assert (await badge.next(badge_op))["unreadCount"] == 0
            assert (await inbox_event(feed, feed_op))["kind"] == "SYNC"

            own_redis.stop()
            await publish(api, tenant, ["alice"])  # stored; its live event is lost
            own_redis.start()

            assert (await badge.next(badge_op, timeout=15))["unreadCount"] == 1
            resync = await inbox_event(feed, feed_op, timeout=15)
            assert (resync["kind"], resync["unreadCount"]) == ("SYNC", 1)

            await publish(api, tenant, ["alice"], title="after the restart")
            assert (await badge.next(badge_op))["unreadCount"] == 2
            created = await inbox_event(feed, feed_op)
            assert created["kind"] == "CREATED" and created["unreadCount"] == 2


async def test_browsers_from_other_origins_are_refused(server, alice) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await GraphQLSocket.open(server.ws_url, alice.token, origin="https://elsewhere.example")

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_listed_origins_are_let_in(settings: Settings) -> None:
    allowed = settings.model_copy(update={"allowed_origins": ["https://app.example"]})
    async with serving(allowed) as live, httpx.AsyncClient(base_url=live.http_url) as client:
        tenant = await make_tenant()
        alice = await make_user(Api(client), tenant, "alice")

        socket = await GraphQLSocket.open(live.ws_url, alice.token, origin="https://app.example")
        await socket.acknowledged()
        await socket.close()


UNSEEN = "subscription($category: String) { unseenCount(category: $category) }"
SEEN = "mutation($ids: [ID!]!) { markNotificationsSeen(ids: $ids) { marked } }"
ARCHIVE = "mutation($id: ID!) { archiveNotification(id: $id) { id } }"
UNARCHIVE = "mutation($id: ID!) { unarchiveNotification(id: $id) { id } }"
BADGES = "subscription { inbox { kind unreadCount unseenCount notificationIds all } }"


async def test_unseen_count_emits_now_then_each_new_value(server, live_api, tenant, alice) -> None:
    [first] = (await publish(live_api, tenant, ["alice"]))["notificationIds"]
    async with subscribed(server, alice.token, UNSEEN) as (socket, op):
        initial = (await socket.next(op))["unseenCount"]
        await publish(live_api, tenant, ["alice"])
        after_publish = (await socket.next(op))["unseenCount"]
        await live_api.data(SEEN, {"ids": [first]}, token=alice.token)
        after_seen = (await socket.next(op))["unseenCount"]
        await live_api.data(SEEN, {"ids": []}, token=alice.token)
        all_seen = (await socket.next(op))["unseenCount"]
        await live_api.data(MARK_ONE, {"id": first}, token=alice.token)  # already seen: no frame
        quiet = await socket.nothing_within(0.3)

    assert (initial, after_publish, after_seen, all_seen, quiet) == (1, 2, 1, 0, True)


async def test_archiving_tells_every_tab_with_both_badges(server, live_api, tenant, alice) -> None:
    [nid] = (await publish(live_api, tenant, ["alice"]))["notificationIds"]
    async with subscribed(server, alice.token, BADGES) as (socket, op):
        sync = await inbox_event(socket, op)
        await live_api.data(ARCHIVE, {"id": nid}, token=alice.token)
        archived = await inbox_event(socket, op)
        await live_api.data(UNARCHIVE, {"id": nid}, token=alice.token)
        unarchived = await inbox_event(socket, op)

    assert (sync["kind"], sync["unreadCount"], sync["unseenCount"]) == ("SYNC", 1, 1)
    assert archived == {
        "kind": "ARCHIVED",
        "unreadCount": 0,
        "unseenCount": 0,
        "notificationIds": [nid],
        "all": False,
    }
    # back in the inbox unread, but seen: it was seen when archived
    assert (unarchived["kind"], unarchived["unreadCount"], unarchived["unseenCount"]) == (
        "UNARCHIVED",
        1,
        0,
    )


SNOOZE = (
    "mutation($id: ID!, $until: DateTime!) { snoozeNotification(id: $id, until: $until) { id } }"
)


async def test_a_snoozed_notification_comes_back_to_every_tab_once(
    server, live_api, tenant, alice
) -> None:
    [nid] = (await publish(live_api, tenant, ["alice"]))["notificationIds"]
    async with subscribed(server, alice.token, BADGES) as (socket, op):
        await inbox_event(socket, op)  # SYNC
        until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        await live_api.data(SNOOZE, {"id": nid, "until": until}, token=alice.token)
        snoozed = await inbox_event(socket, op)
        await Notification.filter(id=nid).update(snoozed_until=datetime.now(UTC))

        await asyncio.gather(inbox_clock.run_once(), inbox_clock.run_once())
        back = await inbox_event(socket, op)
        once = await socket.nothing_within(0.3)

    assert (snoozed["kind"], snoozed["unreadCount"], snoozed["unseenCount"]) == ("SNOOZED", 0, 0)
    assert (back["kind"], back["notificationIds"], back["unreadCount"]) == ("RESURFACED", [nid], 1)
    assert once


async def test_a_collapsed_publish_is_an_update_to_every_tab(
    server, live_api, tenant, alice
) -> None:
    [first] = (await publish(live_api, tenant, ["alice"], collapseKey="calls"))["notificationIds"]
    async with subscribed(server, alice.token) as (socket, op):
        await inbox_event(socket, op)  # SYNC
        await publish(live_api, tenant, ["alice"], title="again", collapseKey="calls")
        updated = await inbox_event(socket, op)

    assert (updated["kind"], updated["notificationIds"], updated["unreadCount"]) == (
        "UPDATED",
        [first],
        1,
    )
    assert updated["notification"]["title"] == "again"
