"""A subscriber that stops reading, with frames still on their way to it, is cut off when its
ping goes unanswered, rather than held (with its subscription and the send parked on it) until
the server stops."""

import asyncio
import json
import re
from pathlib import Path

import httpx

from bench.stalled import masked_text_frame, upgraded
from tests.helpers import Api, make_user, publish
from tests.processes import server_process

FAST_PINGS = {"BELFRY_WS_PING_INTERVAL_SECONDS": "0.3", "BELFRY_WS_PING_TIMEOUT_SECONDS": "0.3"}
SUBSCRIPTION = "subscription { inbox { kind notification { id body } } }"


async def open_websockets(http: httpx.AsyncClient) -> int:
    text = (await http.get("/metrics")).text
    return sum(
        int(float(n)) for n in re.findall(r"^belfry_websocket_connections\S* (\S+)$", text, re.M)
    )


async def test_a_subscriber_that_stops_reading_is_cut_off_when_its_ping_times_out(
    tmp_path: Path,
) -> None:
    # given a server that pings every 0.3 s and waits 0.3 s for the answer
    async with (
        server_process(tmp_path, FAST_PINGS) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        api = Api(http)
        alice = await make_user(api, server.tenant, "alice")
        # and alice's subscription on a socket with a small receive buffer, never read again
        sock, frames = await upgraded(
            server.url.replace("http", "ws") + "/graphql", "graphql-transport-ws"
        )
        loop = asyncio.get_running_loop()
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {alice.token}"}}
        await loop.sock_sendall(sock, masked_text_frame(json.dumps(init)))
        assert json.loads(await frames.next_text())["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
        await loop.sock_sendall(sock, masked_text_frame(json.dumps(subscribe)))
        assert "SYNC" in await frames.next_text()
        assert await open_websockets(http) == 1

        # when more is published to her than the connection can hold (800 KB of bodies)
        for _ in range(40):
            await publish(api, server.tenant, ["alice"], body="x" * 20_000)

        # then the server gives up on her socket once a ping has gone unanswered, although
        # frames are still waiting to be sent to it
        for _ in range(50):
            if not await open_websockets(http):
                break
            await asyncio.sleep(0.2)
        assert await open_websockets(http) == 0
        sock.close()
