"""Resuming the inbox stream: each event's cursor, and a subscription given one replays what
came after it, on the embedded in-memory store and on Redis, through a real websocket."""

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.conftest import LiveServer, serving
from tests.graphql.test_subscriptions import subscribed
from tests.helpers import Api, UserAccess, make_user, publish

# What is kept does not depend on the database: one is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

INBOX = """
subscription($after: String) {
  inbox(after: $after) { kind cursor reset unreadCount notification { title } }
}
"""


@pytest.fixture(params=["memory", "redis"])
async def server(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[LiveServer]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings = settings.model_copy(update={"broadcast_url": url})
    async with serving(settings) as live:
        yield live


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        yield Api(client)


async def events(
    server: LiveServer, user: UserAccess, count: int, after: str | None = None
) -> list[dict[str, Any]]:
    """The first `count` inbox events of a subscription (after `after`)."""
    async with subscribed(server, user.token, INBOX, {"after": after}) as (socket, op):
        return [(await socket.next(op))["inbox"] for _ in range(count)]


async def test_a_subscriber_resumes_with_exactly_what_it_missed(server, api, tenant, alice) -> None:
    # given a subscriber that saw one event and then went away
    async with subscribed(server, alice.token, INBOX) as (socket, op):
        sync = (await socket.next(op))["inbox"]
        await publish(api, tenant, ["alice"], title="seen")
        seen = (await socket.next(op))["inbox"]

    # when ten are published while it is away, and it comes back with its last cursor
    for i in range(10):
        await publish(api, tenant, ["alice"], title=f"missed {i}")
    async with subscribed(server, alice.token, INBOX, {"after": seen["cursor"]}) as (socket, op):
        replayed = [(await socket.next(op))["inbox"] for _ in range(10)]
        nothing_more = await socket.nothing_within(0.2)
        await publish(api, tenant, ["alice"], title="live")
        live = (await socket.next(op))["inbox"]

    # then it gets those ten, in order, with no SYNC and nothing twice, and then goes on live
    assert sync["kind"] == "SYNC" and sync["reset"] is False and sync["cursor"]
    assert [(e["kind"], e["notification"]["title"]) for e in replayed] == [
        ("CREATED", f"missed {i}") for i in range(10)
    ]
    assert [e["unreadCount"] for e in replayed] == list(range(2, 12))
    assert nothing_more
    assert live["notification"]["title"] == "live"
    cursors = [seen["cursor"], *(e["cursor"] for e in replayed), live["cursor"]]
    assert len(set(cursors)) == 12


async def test_resuming_from_a_sync_gives_only_what_came_after_it(
    server, api, tenant, alice
) -> None:
    await publish(api, tenant, ["alice"], title="before")
    [sync] = await events(server, alice, 1)
    await publish(api, tenant, ["alice"], title="after")

    [resumed] = await events(server, alice, 1, after=sync["cursor"])

    assert (resumed["kind"], resumed["notification"]["title"]) == ("CREATED", "after")


def rewritten(cursor: str, **parts: str) -> str:
    user, epoch, position = base64.urlsafe_b64decode(cursor).decode().split("|")
    values = {"user": user, "epoch": epoch, "position": position, **parts}
    joined = f"{values['user']}|{values['epoch']}|{values['position']}"
    return base64.urlsafe_b64encode(joined.encode()).decode()


async def test_a_cursor_older_than_the_window_starts_with_a_reset(
    server, api, tenant, alice
) -> None:
    await publish(api, tenant, ["alice"], title="one")
    [sync] = await events(server, alice, 1)
    ms = int(position(sync["cursor"]).split("-")[0])
    two_hours_ago = f"{ms - 2 * 3600 * 1000}-0"  # BELFRY_LIVE_REPLAY_SECONDS is an hour

    [first] = await events(
        server, alice, 1, after=rewritten(sync["cursor"], position=two_hours_ago)
    )

    assert (first["kind"], first["reset"], first["unreadCount"]) == ("SYNC", True, 1)


def position(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor).decode().split("|")[2]


async def test_another_users_cursor_starts_with_a_reset_and_replays_nothing_of_theirs(
    server, api, tenant, alice
) -> None:
    bob = await make_user(api, tenant, "bob")
    [bobs] = await events(server, bob, 1)
    await publish(api, tenant, ["bob"], title="bob's secret")

    [first] = await events(server, alice, 1, after=bobs["cursor"])

    assert (first["kind"], first["reset"], first["notification"]) == ("SYNC", True, None)


async def test_a_garbled_cursor_is_refused(server, alice) -> None:
    async with subscribed(server, alice.token, INBOX, {"after": "not a cursor"}) as (socket, _):
        message = await socket.result()

    assert message["type"] in ("error", "next", "data"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
