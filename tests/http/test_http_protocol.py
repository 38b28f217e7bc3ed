"""Slow clients against `belfry serve`: a request whose headers, or whose body, do not arrive
in time is answered 408 and its connection closed; a websocket or a multipart subscription,
once its request is in, stays open however long it lasts."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import Api, UserAccess, make_user, publish
from tests.http.test_streams import subscribed_over_http
from tests.processes import ServerProcess, server_process
from tests.wsclient import GraphQLSocket

TIMEOUTS = {"BELFRY_HTTP_HEADER_TIMEOUT_SECONDS": "1", "BELFRY_HTTP_BODY_TIMEOUT_SECONDS": "1"}
PAST_THE_TIMEOUTS = 3  # seconds a live subscription is left idle
DRIBBLE_EVERY = 0.2  # seconds between two bytes of a slow client
DRIBBLE_AT_MOST = 100  # bytes, well past the timeouts: a server that never closes fails the test
HEAD = (
    b"POST /graphql HTTP/1.1\r\nhost: belfry\r\ncontent-type: application/json\r\n"
    b"content-length: 200\r\n\r\n"
)
UNREAD = "subscription { unreadCount }"


@asynccontextmanager
async def slow_server(tmp_path: Path) -> AsyncIterator[tuple[ServerProcess, Api, UserAccess]]:
    """`belfry serve` giving clients a second for a request's headers and one for its body,
    and alice, a user of its tenant."""
    async with (
        server_process(tmp_path, TIMEOUTS) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        api = Api(http)
        yield server, api, await make_user(api, server.tenant, "alice")


async def dribbled(server: ServerProcess, sent_at_once: bytes, dribble: bytes) -> bytes:
    """Sends `sent_at_once`, then `dribble` a byte at a time, slowly, until the server closes
    the connection: all it answered."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    answer = asyncio.create_task(reader.read())  # to the end: until the server closes
    try:
        writer.write(sent_at_once)
        for byte in dribble[:DRIBBLE_AT_MOST]:
            if answer.done():
                break
            await asyncio.sleep(DRIBBLE_EVERY)
            writer.write(bytes([byte]))
        async with asyncio.timeout(10):
            return await answer
    finally:
        answer.cancel()
        writer.close()


def status_and_error(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    [error] = json.loads(body)["errors"]
    return int(head.split(b" ")[1]), error


@pytest.mark.parametrize(
    ("sent_at_once", "dribble"),
    [(b"", b""), (b"POST /graphql HTTP/1.1\r\n", b"x-slow: " + b"a" * 200)],
    ids=["nothing", "a header a byte at a time"],
)
async def test_a_request_whose_headers_are_late_is_answered_408_and_closed(
    tmp_path: Path, sent_at_once: bytes, dribble: bytes
) -> None:
    # Given a server that gives a request's headers a second
    async with slow_server(tmp_path) as (server, _, _):
        # When a client opens a connection and sends nothing, or its headers a byte at a time
        answer = await dribbled(server, sent_at_once, dribble)

    # Then it is answered 408, naming the setting, and the connection is closed
    status, error = status_and_error(answer)
    assert status == 408
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": "httpHeaderTimeoutSeconds"}
    assert "BELFRY_HTTP_HEADER_TIMEOUT_SECONDS" in error["message"]


async def test_a_request_whose_body_is_late_is_answered_408_and_closed(tmp_path: Path) -> None:
    # Given a server that gives a request's body a second
    async with slow_server(tmp_path) as (server, _, _):
        # When a client sends its headers, then its body a byte at a time
        answer = await dribbled(server, HEAD, b'{"query": "' + b" " * 200)

    # Then it is answered 408, naming the setting, and the connection is closed
    status, error = status_and_error(answer)
    assert status == 408
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": "httpBodyTimeoutSeconds"}
    assert "BELFRY_HTTP_BODY_TIMEOUT_SECONDS" in error["message"]


async def test_a_websocket_stays_open_past_the_timeouts(tmp_path: Path) -> None:
    # Given alice's subscription on a websocket, to a server with one-second timeouts
    async with slow_server(tmp_path) as (server, api, alice):
        socket = await GraphQLSocket.open(server.ws_url, alice.token)
        await socket.acknowledged()
        op = await socket.subscribe(UNREAD)
        before = (await socket.next(op))["unreadCount"]

        # When it stays idle past both timeouts, then she is published to
        await asyncio.sleep(PAST_THE_TIMEOUTS)
        await publish(api, server.tenant, ["alice"])

        # Then the socket is still open and the new count arrives on it
        after = (await socket.next(op))["unreadCount"]
        await socket.close()

    assert (before, after) == (0, 1)


async def test_a_multipart_subscription_stays_open_past_the_timeouts(tmp_path: Path) -> None:
    # Given alice's subscription streamed over HTTP, from a server with one-second timeouts
    async with (
        slow_server(tmp_path) as (server, api, alice),
        subscribed_over_http(server.url, alice.token, query=UNREAD) as (response, events),
    ):
        before = (await anext(events))["payload"]["data"]["unreadCount"]

        # When it stays idle past both timeouts, then she is published to
        await asyncio.sleep(PAST_THE_TIMEOUTS)
        await publish(api, server.tenant, ["alice"])

        # Then the stream is still open and the new count arrives on it
        after = (await anext(events))["payload"]["data"]["unreadCount"]

    assert response.status_code == 200
    assert (before, after) == (0, 1)
