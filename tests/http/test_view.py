"""The HTTP side of /graphql: bodies capped as they arrive, and every failure, even before
GraphQL runs, answered as GraphQL JSON with a code."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.exceptions import DBConnectionError

from app.auth import API_KEY_PREFIX
from app.main import create_app
from app.services import inbox
from app.settings import Settings
from tests.conftest import LiveServer, free_port, serving
from tests.helpers import Api, make_tenant, make_user
from tests.test_metrics import scrape
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

LIMIT = 1024 * 1024  # BELFRY_MAX_BODY_BYTES by default
CHUNK = 64 * 1024


def graphql_error(response: httpx.Response) -> dict[str, Any]:
    """The one error of a request-level failure, whose body must be GraphQL JSON."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


async def http_exchange(server: LiveServer, head: str, body: AsyncIterator[bytes]) -> bytes:
    """Sends a request as raw bytes while reading the answer; stops sending once it comes."""
    host, port = server.http_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    answer = asyncio.create_task(reader.read(65536))
    try:
        writer.write(head.encode())
        async for chunk in body:
            if answer.done():
                break
            writer.write(chunk)
            await writer.drain()
        return await asyncio.wait_for(answer, 10)
    except ConnectionError:
        return await asyncio.wait_for(answer, 10)
    finally:
        writer.close()


async def chunked(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // CHUNK):
        yield f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
    yield b"0\r\n\r\n"


async def nothing() -> AsyncIterator[bytes]:
    return
    yield b""


def status_and_json(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


# --- body size -------------------------------------------------------------------------------


async def test_a_body_declared_over_the_limit_is_refused_before_it_is_sent(
    server: LiveServer,
) -> None:
    head = (
        "POST /graphql HTTP/1.1\r\nhost: belfry\r\ncontent-type: application/json\r\n"
        f"content-length: {100 * LIMIT}\r\n\r\n"
    )

    status, body = status_and_json(await http_exchange(server, head, nothing()))

    assert status == 413
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_body_sent_without_a_length_is_refused_once_past_the_limit(
    server: LiveServer,
) -> None:
    head = (
        "POST /graphql HTTP/1.1\r\nhost: belfry\r\ncontent-type: application/json\r\n"
        "transfer-encoding: chunked\r\n\r\n"
    )

    status, body = status_and_json(await http_exchange(server, head, chunked(100 * LIMIT)))

    assert status == 413 and "1048576" in body["errors"][0]["message"]


async def test_a_body_is_read_no_further_than_the_limit(settings: Settings) -> None:
    app = create_app(settings)
    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b" " * CHUNK, "more_body": reads < 1600}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)

    assert sent[0]["status"] == 413
    assert reads <= LIMIT // CHUNK + 1


async def test_a_body_within_the_limit_is_answered(live_api: Api) -> None:
    query = "{ __typename }" + " " * (LIMIT - 100)

    response = await live_api.client.post("/graphql", json={"query": query})

    assert response.status_code == 200 and response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "maxDocumentChars",
    }


# --- bodies that are not GraphQL requests ----------------------------------------------------


async def test_a_body_that_is_not_utf8_is_bad_user_input(live_api: Api) -> None:
    response = await live_api.raw(b'{"query": "{ __typename }", "x": "\xff\xfe"}')

    assert response.status_code == 400
    assert graphql_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "UTF-8" in graphql_error(response)["message"]


async def test_variables_nested_5000_deep_are_bad_user_input(live_api: Api) -> None:
    deep = "[" * 5000 + "]" * 5000
    body = '{"query": "query($x: JSON) { __typename }", "variables": {"x": ' + deep + "}}"

    response = await live_api.raw(body)

    assert response.status_code == 400
    assert graphql_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}


# Python refuses to read an integer of more than 4,300 digits (a guard against quadratic work).
HUGE_NUMBER = "1" * 5000


async def test_a_body_with_a_number_of_5000_digits_is_bad_user_input(live_api: Api) -> None:
    # Given a request whose variables hold a number longer than Python reads
    body = '{"query": "query($x: JSON) { __typename }", "variables": {"x": ' + HUGE_NUMBER + "}}"

    # When it is posted, without credentials
    response = await live_api.raw(body)

    # Then it is refused as a body that is not acceptable JSON, not answered with a 500
    assert response.status_code == 400
    assert graphql_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "4300 digits" in graphql_error(response)["message"]


async def test_get_variables_with_a_number_of_5000_digits_are_bad_user_input(
    live_api: Api,
) -> None:
    # Given a GET request whose variables hold a number longer than Python reads
    params = {"query": "{ __typename }", "variables": '{"x": ' + HUGE_NUMBER + "}"}

    # When it is sent
    response = await live_api.client.get("/graphql", params=params)

    # Then it is refused as the client's mistake
    assert response.status_code == 400
    assert graphql_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize(
    ("body", "headers"),
    [(b"{}", {"content-type": "text/plain"}), (b"{}", {"content-type": "application/json"})],
)
async def test_other_refusals_are_graphql_json_too(
    live_api: Api, body: bytes, headers: dict[str, str]
) -> None:
    response = await live_api.client.post("/graphql", content=body, headers=headers)

    assert response.status_code == 400
    assert graphql_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("body", [b'"a string"', b"5", b"null", b"true"])
async def test_a_body_that_is_json_but_not_an_object_is_bad_user_input(
    api: Api, body: bytes
) -> None:
    # given JSON that is no request at all; when it is posted
    response = await api.raw(body)

    # then it is refused as the client's mistake, not answered with an unexpected error
    assert response.status_code == 400
    assert graphql_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "JSON object" in graphql_error(response)["message"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_a_method_graphql_does_not_serve_is_refused_as_graphql_json(
    api: Api, method: str
) -> None:
    # given a request with a method other than GET or POST
    response = await api.client.request(method, "/graphql", content=b"{}")

    # then it is refused as every other refusal is, saying which methods are served
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert graphql_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_sent_over_http_is_refused(api: Api, method: str) -> None:
    # given a user; when they send a subscription over HTTP, not on a websocket
    tenant = await make_tenant()
    alice = await make_user(api, tenant)
    headers = {"authorization": f"Bearer {alice.token}"}
    query = "subscription { unreadCount }"
    if method == "GET":
        response = await api.client.get("/graphql", params={"query": query}, headers=headers)
    else:
        response = await api.client.post("/graphql", json={"query": query}, headers=headers)

    # then it is refused as the client's mistake, not run as a query into an unexpected error
    assert response.status_code == 400
    assert graphql_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "subscriptions are not allowed" in graphql_error(response)["message"]


# --- a client that goes away ----------------------------------------------------------------


async def test_a_client_that_leaves_mid_body_is_logged_at_debug_and_is_no_server_error(
    server: LiveServer, live_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a client that sends half a body, naming its request
    caplog.set_level(logging.DEBUG, logger="belfry")
    before = await scrape(live_api.client)
    host, port = server.http_url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /graphql HTTP/1.1\r\nhost: belfry\r\ncontent-type: application/json\r\n"
        b"x-request-id: half-a-body\r\ncontent-length: 1000\r\n\r\n"
        b'{"query": "{ __typename'
    )
    await writer.drain()

    # When it goes away before the rest
    writer.close()
    for _ in range(200):  # until the server has read the rest, and found it missing
        if lines := [r for r in caplog.records if "half-a-body" in r.getMessage()]:
            break
        await asyncio.sleep(0.05)

    # Then the server says so at debug level, without a traceback, and counts no error
    assert [(r.levelno, r.exc_info) for r in lines] == [(logging.DEBUG, None)]
    assert "Traceback" not in lines[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    after = await scrape(live_api.client)
    operations = "belfry_graphql_operations_total"
    server_errors = [s.value(operations, outcome="server_error") for s in (before, after)]
    assert server_errors[0] == server_errors[1]


# --- the database is down --------------------------------------------------------------------


async def test_a_signed_in_request_while_the_database_is_down_is_service_unavailable(
    tmp_path: Path,
) -> None:
    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/belfry"  # nothing listens there
    settings = Settings(
        database_url=nowhere, data_dir=tmp_path, gc_tuning=False, embedded_jobs=False
    )
    async with serving(settings) as server, httpx.AsyncClient(base_url=server.http_url) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ unreadCount }"},
            headers={"authorization": f"Bearer {API_KEY_PREFIX}anything"},
        )

    assert response.status_code == 503
    assert graphql_error(response)["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_result_saying_the_database_is_down_is_answered_503(
    live_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant)

    async def unreachable(**_: object) -> int:
        # What Tortoise raises when its pool cannot open a connection.
        raise DBConnectionError("Can't establish connection to database belfry")

    monkeypatch.setattr(inbox, "unread_count", unreachable)
    response = await live_api.client.post(
        "/graphql",
        json={"query": "{ unreadCount }"},
        headers={"authorization": f"Bearer {alice.token}"},
    )

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_an_operation_over_a_sockets_limit_is_refused_with_a_code(
    server: LiveServer, live_api: Api, protocol: str
) -> None:
    # given a socket already running as many subscriptions as one may (Strawberry's 100)
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant)
    socket = await GraphQLSocket.open(server.ws_url, alice.token, protocol)
    await socket.acknowledged()
    for _ in range(100):
        await socket.subscribe("subscription { unreadCount }")

    # when it starts one more
    over = await socket.subscribe("subscription { unreadCount }")

    # then that one is refused with a code and the limit it hit, and the socket stays open
    message = await socket.result()
    while message.get("id") != over:  # past the others' current counts, however late
        message = await socket.result()
    await socket.close()
    assert (message["id"], message["type"]) == (over, "error")
    [error] = message["payload"] if protocol == TRANSPORT_WS else [message["payload"]]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": "maxOperationsPerSocket"}
    assert "100 operations" in error["message"]


# --- frames on a websocket --------------------------------------------------------------------

MALFORMED = ["[]", "5", '{"type": 5}', '{"id": "1", "type": "subscribe", "payload": 5}']


@pytest.mark.parametrize("frame", MALFORMED)
@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_frame_that_is_no_message_closes_the_socket_with_4400(
    server: LiveServer, live_api: Api, protocol: str, frame: str
) -> None:
    # given a user's acknowledged socket
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant)
    socket = await GraphQLSocket.open(server.ws_url, alice.token, protocol)
    await socket.acknowledged()

    # when it sends JSON that is not a message of the protocol's shape
    if protocol == LEGACY_WS:
        frame = frame.replace('"subscribe"', '"start"')
    await socket.connection.send(frame)

    # then the socket is closed as the protocol says, not dropped by a failing handler
    assert await socket.close_frame() == (4400, "Failed to parse message")


async def test_a_legacy_start_without_a_query_closes_the_socket_with_4400(
    server: LiveServer, live_api: Api
) -> None:
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant)
    socket = await GraphQLSocket.open(server.ws_url, alice.token, LEGACY_WS)
    await socket.acknowledged()

    await socket.send({"id": "1", "type": "start", "payload": {}})

    assert await socket.close_frame() == (4400, "Failed to parse message")


async def test_a_frame_with_a_number_of_5000_digits_closes_the_socket_with_4400(
    server: LiveServer, live_api: Api
) -> None:
    # Given a user's acknowledged socket
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant)
    socket = await GraphQLSocket.open(server.ws_url, alice.token)
    await socket.acknowledged()

    # When it sends a frame holding a number longer than Python reads
    await socket.connection.send('{"type": "ping", "payload": {"x": ' + HUGE_NUMBER + "}}")

    # Then the socket is closed as for any frame that is not JSON, not dropped by a failure
    assert await socket.close_frame() == (4400, "WebSocket message must be valid JSON")


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_query_that_is_not_a_string_on_a_socket_is_bad_user_input(
    server: LiveServer, live_api: Api, protocol: str
) -> None:
    # given a user's acknowledged socket; when they subscribe with a query that is a number
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant)
    socket = await GraphQLSocket.open(server.ws_url, alice.token, protocol)
    await socket.acknowledged()
    kind = "subscribe" if protocol == TRANSPORT_WS else "start"
    await socket.send({"id": "1", "type": kind, "payload": {"query": 5}})

    # then that operation is refused naming the query, and the socket goes on
    message = await socket.result()
    await socket.close()
    assert message["type"] == "error"
    [error] = message["payload"] if protocol == TRANSPORT_WS else [message["payload"]]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "query"}
