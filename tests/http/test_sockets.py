"""Websocket hygiene: sockets that never sign in are closed, and no user or address may hold
more than its share."""

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from app.settings import Settings
from tests.conftest import LiveServer
from tests.helpers import Api, make_tenant, make_user
from tests.processes import server_process
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLSocket


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "ws_init_timeout_seconds": 0.5,
            "max_sockets_per_user": 2,
            "max_sockets_per_address": 4,
        }
    )


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_socket_that_never_signs_in_is_closed(server: LiveServer, protocol: str) -> None:
    # given a socket that opens and says nothing
    async with websockets.connect(server.ws_url, subprotocols=[protocol]) as silent:  # type: ignore[list-item]
        socket = GraphQLSocket(silent, protocol)

        # when the sign-in time runs out, then the server closes it
        assert await socket.close_frame(timeout=5) == (4408, "Connection initialisation timeout")


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_user_holds_a_bounded_number_of_sockets(
    server: LiveServer, live_api: Api, protocol: str
) -> None:
    # given a user with as many sockets open as allowed
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant, "alice")
    held = [await GraphQLSocket.open(server.ws_url, alice.token, protocol) for _ in "12"]
    for socket in held:
        await socket.acknowledged()

    # when they open one more
    extra = await GraphQLSocket.open(server.ws_url, alice.token, protocol)

    # then it is refused, and once one of theirs closes a new one is let in
    if protocol == TRANSPORT_WS:
        assert await extra.close_frame() == (
            4403,
            "At most 2 open sockets per user or API key in one server",
        )
    else:
        assert (await extra.result())["type"] == "connection_error"
    await held[0].close()
    again = await GraphQLSocket.open(server.ws_url, alice.token, protocol)
    await again.acknowledged()
    for socket in (*held[1:], again, extra):
        await socket.close()


async def test_an_address_holds_a_bounded_number_of_sockets(server: LiveServer) -> None:
    # given as many sockets from one address as allowed, none signed in yet
    opened = [
        await websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS])  # type: ignore[list-item]
        for _ in range(4)
    ]

    # when the address opens one more, then its handshake is refused
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS])  # type: ignore[list-item]
    assert refused.value.response.status_code == 403
    for connection in opened:
        await connection.close()


async def test_a_server_told_to_stop_says_it_is_going_away(tmp_path: Path) -> None:
    # given a server process and a user's socket on it
    async with server_process(tmp_path) as server, httpx.AsyncClient(base_url=server.url) as http:
        alice = await make_user(Api(http), server.tenant, "alice")
        socket = await GraphQLSocket.open(
            server.url.replace("http", "ws") + "/graphql", alice.token
        )
        await socket.acknowledged()

        # when it gets SIGTERM
        server.process.send_signal(signal.SIGTERM)

        # then the socket is closed with 1001, not uvicorn's 1012 (restart), and it stops
        # (uvicorn ends by raising the signal again: the exit status says SIGTERM)
        assert await socket.close_frame() == (1001, "server shutting down")
        assert await asyncio.to_thread(server.process.wait, 10) == -signal.SIGTERM
