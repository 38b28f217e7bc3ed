"""The socket.io + Redis peer of the live benchmarks (bench/socketio/server.js, Novu's realtime
design), and a client for it that speaks socket.io v5 over engine.io v4 on a plain websocket,
as the other systems' dialers do, rather than through a socket.io client library.

On the wire, after the websocket opens: the server sends engine.io's open packet `0{...}`; the
client connects to the default namespace with its auth, `40{"user": "..."}`, and the server
accepts with `40{"sid": "..."}`. Events arrive as `42["inbox", {...}]`; every pingInterval the
server sends `2` and closes a socket that does not answer `3` within pingTimeout.

The node packages come from bench/socketio/package-lock.json: `npm ci --prefix bench/socketio`.
"""

import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from websockets.asyncio.client import ClientConnection

from bench.common import asyncpg_dsn
from bench.processes import serving
from tests.conftest import free_port

if TYPE_CHECKING:
    from bench.servers import Server

# bench.servers imports this module to register the dialer (client processes look dialers up
# there by kind), so what this module needs from it is imported when first called.

PACKAGE = Path(__file__).resolve().parent / "socketio"
SERVER_JS = PACKAGE / "server.js"
# socket.io's defaults, as Novu runs them: a ping every 25 s, a socket closed 20 s after a ping
# it has not answered.
PING_INTERVAL_MS = 25_000
PING_TIMEOUT_MS = 20_000


class NotInstalled(RuntimeError):
    pass


def require_installed() -> str:
    """The node binary, once Node and the peer's packages are there; a clear error if not."""
    node = shutil.which("node")
    if node is None:
        raise NotInstalled("the socket.io peer needs Node.js: node is not on the PATH")
    if not (PACKAGE / "node_modules").is_dir():
        raise NotInstalled(
            "the socket.io peer's packages are missing: run npm ci --prefix bench/socketio"
        )
    return node


def packet(frame: str | bytes) -> str:
    # engine.io sends text frames; bytes would only carry binary attachments, never used here.
    return frame.decode() if isinstance(frame, bytes) else frame


@dataclass
class SocketIODialer:
    url: str  # ws://host:port
    kind: str = "socketio"

    async def connect(self, user: str) -> ClientConnection:
        from bench.servers import open_socket

        socket = await open_socket(f"{self.url}/socket.io/?EIO=4&transport=websocket")
        opened = packet(await socket.recv())
        assert opened.startswith("0{"), f"expected engine.io's open packet, got {opened!r}"
        await socket.send("40" + json.dumps({"user": user}))
        while True:
            reply = packet(await socket.recv())
            if reply == "2":  # a ping may come first on a slow handshake
                await socket.send("3")
            elif reply.startswith("40"):
                return socket
            else:  # 44{"message": ...}: the server refused the connection
                await socket.close()
                raise ConnectionError(f"socket.io refused {user}: {reply}")

    async def next_title(self, socket: ClientConnection) -> str:
        while True:
            frame = packet(await socket.recv())
            if frame == "2":
                await socket.send("3")
            elif frame.startswith("42"):
                event, body = json.loads(frame[2:])
                if event == "inbox":
                    title: str = body["notification"]["title"]
                    return title


@asynccontextmanager
async def socketio(
    db_url: str,
    redis_url: str | None = None,
    ping_interval_ms: int = PING_INTERVAL_MS,
    ping_timeout_ms: int = PING_TIMEOUT_MS,
) -> AsyncIterator["Server"]:
    """bench/socketio/server.js on PostgreSQL (its own table in `db_url`'s database) and Redis
    (the benchmarks' unless given)."""
    from bench.servers import PUBLISHER_LIMITS, REDIS_URL, Server

    node = require_installed()
    port = free_port()
    command = [
        node,
        str(SERVER_JS),
        "--port",
        str(port),
        "--pg",
        asyncpg_dsn(db_url),
        "--redis",
        redis_url or REDIS_URL,
        "--ping-interval",
        str(ping_interval_ms),
        "--ping-timeout",
        str(ping_timeout_ms),
    ]
    url = f"http://127.0.0.1:{port}"
    with serving(command, dict(os.environ), port, cwd=str(PACKAGE)) as pid:
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=PUBLISHER_LIMITS) as client:

            async def publish(recipients: list[str], title: str) -> None:
                body = {"recipients": recipients, "title": title}
                response = await client.post("/publish", json=body)
                assert response.json()["count"] == len(recipients)

            dialer = SocketIODialer(url.replace("http", "ws", 1))
            yield Server("socketio", pid, dialer, publish)
