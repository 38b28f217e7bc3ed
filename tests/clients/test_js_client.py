"""The JavaScript client and its inbox store (clients/js/src), run in Node against real
servers: live events, mutations, a server restart, and tokens that expire.

The client's behaviour does not depend on the database, which the API's own tests cover on
both: these run on SQLite only."""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from app.auth import mint_user_token
from app.services import inbox_clock
from app.settings import Settings
from tests.conftest import Clock, LiveServer, free_port, serving
from tests.graphql.test_live_auth import expiry_of
from tests.helpers import (
    Api,
    TenantAccess,
    UserAccess,
    erase_user,
    make_tenant,
    make_user,
    publish,
    signing_secret_of,
)
from tests.node import Answer, Message, NodeProcess, node_process
from tests.servers import proxying

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@dataclass
class Tokens:
    """Answers the client's token requests with tokens minted as a host backend would."""

    tenant: TenantAccess
    external_id: str
    ttl: timedelta
    issued: list[str] = field(default_factory=list)

    async def answer(self, message: Message) -> Message | None:
        if message.get("event") != "token-request":
            return None
        token, _ = mint_user_token(
            tenant_id=UUID(self.tenant.tenant_id),
            external_id=self.external_id,
            signing_secret=await signing_secret_of(self.tenant.tenant_id),
            ttl=self.ttl,
        )
        self.issued.append(token)
        return {"cmd": "token", "token": token}


def day_long(tenant: TenantAccess, user: UserAccess) -> Answer:
    """Tokens that outlive a test that moves the clock by hours."""
    return Tokens(tenant, user.external_id, ttl=timedelta(days=1)).answer


def fixed(token: str) -> Answer:
    async def answer(message: Message) -> Message | None:
        return {"cmd": "token", "token": token} if message.get("event") == "token-request" else None

    return answer


@asynccontextmanager
async def inbox_client(
    server: LiveServer,
    answer: Answer,
    until: Callable[[Message], bool] | None = None,
    **options: Any,
) -> AsyncIterator[NodeProcess]:
    """The store running in Node, synced with the inbox (and showing what `until` wants)."""
    async with node_process(
        "inbox-client.mjs", f"{server.http_url}/graphql", json.dumps(options), answer=answer
    ) as node:
        await node.expect(until or synced)
        yield node


def synced(message: Message) -> bool:
    return message["event"] == "state" and message["synced"] and not message["loading"]


def showing(title: str, unread: int | None = None) -> Callable[[Message], bool]:
    def wanted(message: Message) -> bool:
        return (
            synced(message)
            and any(item["title"] == title for item in message["items"])
            and (unread is None or message["unreadCount"] == unread)
        )

    return wanted


def status(name: str) -> Callable[[Message], bool]:
    return lambda message: message["event"] == "status" and message["status"] == name


@pytest.fixture
async def tenant(server: LiveServer) -> TenantAccess:
    return await make_tenant()


@pytest.fixture
async def user(live_api: Api, tenant: TenantAccess) -> UserAccess:
    return await make_user(live_api, tenant)


async def test_the_store_shows_a_published_notification_and_marking_it_read_lowers_the_count(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a store following the user's empty inbox
    async with inbox_client(server, fixed(user.token)) as node:
        # When a notification is published to them
        published = await publish(live_api, tenant, [user.external_id], title="Hello")

        # Then the store shows it, unread
        await node.expect(showing("Hello", unread=1))

        # And when it is marked read through the store, the count follows
        await node.send({"cmd": "markRead", "id": published["notificationIds"][0]})
        state = await node.expect(lambda m: m["event"] == "state" and m["unreadCount"] == 0)
        assert state["items"][0]["isRead"] is True


async def test_the_store_catches_up_after_the_server_restarts(settings: Settings) -> None:
    port = free_port()
    async with AsyncExitStack() as outlives_the_first_server:
        # Given a store following a user's inbox on a server at a fixed port
        async with (
            serving(settings, port) as first,
            httpx.AsyncClient(base_url=first.http_url) as client,
        ):
            tenant = await make_tenant()
            user = await make_user(Api(client), tenant)
            node = await outlives_the_first_server.enter_async_context(
                inbox_client(first, fixed(user.token))
            )

        # When that server has stopped, and another starts on the same port
        await node.expect(status("reconnecting"))
        async with (
            serving(settings, port) as second,
            httpx.AsyncClient(base_url=second.http_url) as client,
        ):
            await node.expect(status("connected"))
            # and a notification is published there
            await publish(Api(client), tenant, [user.external_id], title="After the restart")

            # Then the store, subscribed again, shows it
            await node.expect(showing("After the restart", unread=1))


async def test_after_losing_its_socket_the_store_resumes_without_reloading(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a store following the inbox through a connection that is about to drop
    port = int(server.http_url.rsplit(":", 1)[1])
    async with proxying("127.0.0.1", port) as proxy:
        through = LiveServer(
            http_url=f"http://127.0.0.1:{proxy.port}",
            ws_url=f"ws://127.0.0.1:{proxy.port}/graphql",
            app=server.app,
        )
        async with inbox_client(through, fixed(user.token)) as node:
            await publish(live_api, tenant, [user.external_id], title="Seen live")
            await node.expect(showing("Seen live", unread=1))

            # When the connection drops, three notifications are published meanwhile, and
            # the connection comes back
            await proxy.cut()
            await node.expect(status("reconnecting"))
            for i in range(3):
                await publish(live_api, tenant, [user.external_id], title=f"Missed {i}")
            await proxy.start()
            await node.expect(status("connected"))

            # Then the store shows them, caught up from the events it missed, not reloaded
            caught_up = await node.expect(showing("Missed 2", unread=4))
            assert [item["title"] for item in caught_up["items"]] == [
                "Missed 2",
                "Missed 1",
                "Missed 0",
                "Seen live",
            ]
            reconnected = max(i for i, m in enumerate(node.seen) if status("connected")(m))
            since = node.seen[reconnected:]
            assert not any(m["event"] == "state" and m["loading"] for m in since), since


async def test_the_client_renews_its_token_before_it_expires(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess, clock: Clock
) -> None:
    # Given tokens that live a few seconds
    tokens = Tokens(tenant, user.external_id, ttl=timedelta(seconds=6))
    async with inbox_client(server, tokens.answer) as node:
        # When the client has renewed its token ahead of the expiry (by its own timer) and
        # signed in again with the new one, and then the first token expires
        await node.expect(lambda m: m["event"] == "token-request")
        await node.expect(status("connected"))
        clock.set(expiry_of(tokens.issued[0]) + timedelta(seconds=1))
        await publish(live_api, tenant, [user.external_id], title="Still listening")

        # Then events still arrive, and the server never had to close the socket for expiry
        await node.expect(showing("Still listening"))
        assert len(tokens.issued) >= 2
        assert not [m for m in node.seen if m.get("code") == 4401]


async def test_a_socket_closed_for_expiry_reconnects_with_a_fresh_token(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess, clock: Clock
) -> None:
    # Given a client that does not renew ahead, with a token that lives a minute
    tokens = Tokens(tenant, user.external_id, ttl=timedelta(seconds=60))
    async with inbox_client(server, tokens.answer, refreshBeforeExpiry=False) as node:
        # When the server closes the socket as the token expires
        clock.set(expiry_of(tokens.issued[0]) + timedelta(seconds=1))
        closed = await node.expect(status("reconnecting"))
        assert (closed["code"], closed["reason"]) == (4401, "token expired")

        # Then the client signs in again with a fresh token, and follows the inbox again
        await node.expect(status("connected"))
        await publish(live_api, tenant, [user.external_id], title="Signed in again")
        await node.expect(showing("Signed in again"))


async def test_the_client_stops_when_the_tokens_it_gets_keep_being_refused(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a client whose token source always gives the same token
    requests = 0

    async def same_token(message: Message) -> Message | None:
        nonlocal requests
        if message.get("event") != "token-request":
            return None
        requests += 1
        return {"cmd": "token", "token": user.token}

    async with inbox_client(server, same_token, maxAuthRetries=2) as node:
        # When the user is erased: the socket is closed, and the token refused from then on
        assert await erase_user(live_api, tenant.api_key, user.external_id)

        # Then the client asks for a token again a bounded number of times, then gives up
        given_up = await node.expect(status("unauthorized"))
        assert given_up["code"] == 4403
        assert requests == 1 + 2


async def test_a_failing_token_source_is_tried_again(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a token source that fails the first time (its endpoint is down, say)
    requests = 0

    async def down_once(message: Message) -> Message | None:
        nonlocal requests
        if message.get("event") != "token-request":
            return None
        requests += 1
        if requests == 1:
            return {"cmd": "token", "error": "token endpoint unreachable"}
        return {"cmd": "token", "token": user.token}

    # When the client starts, then it tries again, signs in and follows the inbox
    async with inbox_client(server, down_once) as node:
        await publish(live_api, tenant, [user.external_id], title="Got there")
        await node.expect(showing("Got there"))
        assert requests == 2


def titles(message: Message) -> list[str]:
    return [item["title"] for item in message["items"]]


async def test_the_store_filters_by_category_pages_on_and_applies_bulk_changes(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given three billing and two agent notifications, and a store showing two at a time
    for title in ("b1", "b2", "b3"):
        await publish(live_api, tenant, [user.external_id], category="billing.x", title=title)
    for title in ("a1", "a2"):
        await publish(live_api, tenant, [user.external_id], category="agent.x", title=title)
    async with inbox_client(server, fixed(user.token), pageSize=2) as node:
        # When one category is chosen, then its first page shows, newest first
        await node.send({"cmd": "setCategory", "category": "billing.x"})
        state = await node.expect(lambda m: synced(m) and m["category"] == "billing.x")
        assert titles(state) == ["b3", "b2"] and state["hasMore"]

        # When the next page is loaded, then the rest follows
        await node.send({"cmd": "loadMore"})
        state = await node.expect(lambda m: m["event"] == "state" and len(m["items"]) == 3)
        assert titles(state) == ["b3", "b2", "b1"] and not state["hasMore"]

        # When another category gets a notification, then the count grows, the list does not
        await publish(live_api, tenant, [user.external_id], category="agent.x", title="a3")
        state = await node.expect(lambda m: m["event"] == "state" and m["unreadCount"] == 6)
        assert titles(state) == ["b3", "b2", "b1"]

        # When the category is marked read, then its items are read and the count drops
        await node.send({"cmd": "markAllRead"})
        state = await node.expect(lambda m: m["event"] == "state" and m["unreadCount"] == 3)
        assert all(item["isRead"] for item in state["items"])

        # When one is deleted, then it leaves the list
        await node.send({"cmd": "delete", "id": state["items"][2]["id"]})
        state = await node.expect(lambda m: m["event"] == "state" and len(m["items"]) == 2)
        assert titles(state) == ["b3", "b2"]


def item(message: Message, title: str) -> dict[str, Any]:
    [found] = [i for i in message["items"] if i["title"] == title]
    return dict(found)


def state_where(wanted: Callable[[Message], bool]) -> Callable[[Message], bool]:
    return lambda message: (
        message["event"] == "state" and not message["loading"] and wanted(message)
    )


def done(cmd: str) -> Callable[[Message], bool]:
    return lambda message: message["event"] in ("done", "failed") and message["cmd"] == cmd


MARK_SEEN = "mutation($ids: [ID!]!) { markNotificationsSeen(ids: $ids) { marked } }"
MARK_READ = "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { marked } }"


async def test_the_store_counts_unseen_and_marking_the_shown_ones_seen_leaves_them_unread(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given two new notifications in the store
    for title in ("One", "Two"):
        await publish(live_api, tenant, [user.external_id], title=title)
    async with inbox_client(server, fixed(user.token), showing("One", unread=2)) as node:
        # When the shown ones are marked seen
        await node.send({"cmd": "markSeen"})
        marked = await node.expect(done("markSeen"))

        # Then both are seen and still unread, and the unseen count is zero
        state = await node.expect(state_where(lambda m: m["unseenCount"] == 0))
        assert marked["result"] == 2
        assert state["unreadCount"] == 2
        assert [(i["isSeen"], i["isRead"]) for i in state["items"]] == [(True, False)] * 2


async def test_marking_seen_in_another_tab_does_not_mark_read_here(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a store showing two unseen notifications
    ids = []
    for title in ("One", "Two"):
        ids += (await publish(live_api, tenant, [user.external_id], title=title))["notificationIds"]
    async with inbox_client(server, fixed(user.token), showing("Two", unread=2)) as node:
        # When another tab marks everything seen (an event naming no state)
        await live_api.data(MARK_SEEN, {"ids": []}, token=user.token)

        # Then the store shows them seen, not read
        seen = await node.expect(state_where(lambda m: m["unseenCount"] == 0))
        assert [(i["isSeen"], i["isRead"]) for i in seen["items"]] == [(True, False)] * 2

        # And when that tab marks one read by id, the store shows that one read
        await live_api.data(MARK_READ, {"ids": [ids[0]]}, token=user.token)
        read = await node.expect(state_where(lambda m: m["unreadCount"] == 1))
        assert (item(read, "One")["isRead"], item(read, "Two")["isRead"]) == (True, False)


async def test_an_archived_notification_leaves_the_inbox_for_the_archive_view(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a store showing two notifications
    [kept] = (await publish(live_api, tenant, [user.external_id], title="Kept"))["notificationIds"]
    [gone] = (await publish(live_api, tenant, [user.external_id], title="Gone"))["notificationIds"]
    async with inbox_client(server, fixed(user.token), showing("Gone", unread=2)) as node:
        # When one is archived
        await node.send({"cmd": "archive", "id": gone})
        assert (await node.expect(done("archive")))["result"] is True

        # Then it leaves the inbox and its count
        inbox = await node.expect(state_where(lambda m: m["unreadCount"] == 1))
        assert titles(inbox) == ["Kept"]

        # And the archive view shows it alone
        await node.send({"cmd": "setView", "view": "archive"})
        archive = await node.expect(state_where(lambda m: m["view"] == "archive"))
        assert titles(archive) == ["Gone"] and archive["items"][0]["isArchived"]

        # And when it is unarchived, it leaves the archive and comes back to the inbox
        await node.send({"cmd": "unarchive", "id": gone})
        await node.expect(state_where(lambda m: m["view"] == "archive" and m["items"] == []))
        await node.send({"cmd": "setView", "view": "inbox"})
        back = await node.expect(
            state_where(lambda m: m["view"] == "inbox" and len(m["items"]) == 2)
        )
        assert {i["id"] for i in back["items"]} == {kept, gone} and back["unreadCount"] == 2


async def test_a_snoozed_notification_shows_in_the_snoozed_view_until_it_resurfaces(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess, clock: Clock
) -> None:
    # Given a store showing a notification
    [nid] = (await publish(live_api, tenant, [user.external_id], title="Later"))["notificationIds"]
    async with inbox_client(server, day_long(tenant, user), showing("Later", unread=1)) as node:
        # When it is snoozed for an hour
        until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        await node.send({"cmd": "snooze", "id": nid, "until": until})
        assert (await node.expect(done("snooze")))["result"] is not None

        # Then it leaves the inbox and its count, and the snoozed view shows it
        await node.expect(state_where(lambda m: m["unreadCount"] == 0 and m["items"] == []))
        await node.send({"cmd": "setView", "view": "snoozed"})
        snoozed = await node.expect(state_where(lambda m: m["view"] == "snoozed" and m["items"]))
        assert titles(snoozed) == ["Later"] and snoozed["items"][0]["snoozedUntil"]

        # And when its time comes, it leaves the snoozed view, back in the inbox
        clock.advance(timedelta(hours=2))
        await inbox_clock.run_once()
        await node.expect(state_where(lambda m: m["view"] == "snoozed" and m["unreadCount"] == 1))
        await node.send({"cmd": "setView", "view": "inbox"})
        inbox = await node.expect(state_where(lambda m: m["view"] == "inbox" and m["items"]))
        assert titles(inbox) == ["Later"] and inbox["items"][0]["snoozedUntil"] is None


async def test_taking_an_action_records_it_and_answers_the_action_to_follow(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given an urgent notification with two buttons
    actions: list[dict[str, Any]] = [
        {"id": "top-up", "label": "Top up", "url": "/billing", "primary": True},
        {"id": "later", "label": "Later"},
    ]
    published = await publish(
        live_api, tenant, [user.external_id], title="Low", priority="URGENT", actions=actions
    )
    async with inbox_client(server, fixed(user.token), showing("Low", unread=1)) as node:
        shown = next(m for m in reversed(node.seen) if showing("Low")(m))
        assert item(shown, "Low")["priority"] == "URGENT"
        assert [(a["id"], a["primary"]) for a in item(shown, "Low")["actions"]] == [
            ("top-up", True),
            ("later", False),
        ]

        # When the primary one is taken
        await node.send({"cmd": "act", "id": published["notificationIds"][0], "actionId": "top-up"})
        taken = await node.expect(done("act"))

        # Then the store answers the action, and shows the notification read and acted on
        assert taken["result"] == actions[0]
        state = await node.expect(state_where(lambda m: m["unreadCount"] == 0))
        assert item(state, "Low")["isRead"] and item(state, "Low")["interactedAt"]


async def test_the_store_shows_only_the_tags_chosen_live_too(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a billing and a security notification
    await publish(live_api, tenant, [user.external_id], title="Invoice", tags=["billing"])
    await publish(live_api, tenant, [user.external_id], title="Login", tags=["security"])
    async with inbox_client(server, fixed(user.token), showing("Login", unread=2)) as node:
        # When the billing tag is chosen
        await node.send({"cmd": "setTags", "tags": ["billing"]})
        billing = await node.expect(state_where(lambda m: m["tags"] == ["billing"]))
        assert titles(billing) == ["Invoice"]

        # Then a new security notification stays out of the list, a billing one comes in
        await publish(live_api, tenant, [user.external_id], title="Login 2", tags=["security"])
        await node.expect(state_where(lambda m: m["unreadCount"] == 3))
        await publish(live_api, tenant, [user.external_id], title="Refund", tags=["billing", "x"])
        state = await node.expect(state_where(lambda m: m["unreadCount"] == 4))
        assert titles(state) == ["Refund", "Invoice"]


async def test_a_collapsed_publish_moves_its_notification_up_and_is_announced(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a notification with a collapse key, and a later one
    await publish(live_api, tenant, [user.external_id], title="Low 1", collapseKey="low")
    await publish(live_api, tenant, [user.external_id], title="Other")
    async with inbox_client(server, fixed(user.token), showing("Other", unread=2)) as node:
        # When the same key is published twice more
        for n in (2, 3):
            await publish(live_api, tenant, [user.external_id], title=f"Low {n}", collapseKey="low")

        # Then one notification shows, on top, with three occurrences, announced as it came
        state = await node.expect(showing("Low 3"))
        assert titles(state) == ["Low 3", "Other"] and state["items"][0]["occurrences"] == 3
        arrived = [m for m in node.seen if m["event"] == "arrived"]
        assert [(m["title"], m["kind"]) for m in arrived] == [
            ("Low 2", "UPDATED"),
            ("Low 3", "UPDATED"),
        ]


async def test_an_expired_notification_leaves_the_store_when_the_server_says_so(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess, clock: Clock
) -> None:
    # Given a notification that expires in an hour, and one that does not
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await publish(live_api, tenant, [user.external_id], title="Brief", expiresAt=expires)
    await publish(live_api, tenant, [user.external_id], title="Lasting")
    async with inbox_client(server, day_long(tenant, user), showing("Brief", unread=2)) as node:
        # When its time has come and the inbox clock runs
        clock.advance(timedelta(hours=2))
        await inbox_clock.run_once()

        # Then it leaves the list and the count
        state = await node.expect(state_where(lambda m: m["unreadCount"] == 1))
        assert titles(state) == ["Lasting"]


async def test_an_expired_notification_leaves_the_store_at_its_time_by_itself(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given a notification that expires in two seconds, and no inbox clock running
    expires = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    await publish(live_api, tenant, [user.external_id], title="Brief", expiresAt=expires)
    await publish(live_api, tenant, [user.external_id], title="Lasting")
    async with inbox_client(server, fixed(user.token), showing("Brief", unread=2)) as node:
        # Then the store takes it out when its time comes
        state = await node.expect(state_where(lambda m: titles(m) == ["Lasting"]))
        assert state["unreadCount"] == 2  # the server's count until its clock runs
