"""The systems a live benchmark runs side by side, each as its own server process on the same
PostgreSQL and Redis: Belfry, and the raw baseline (bench/raw_server.py).

A system is two halves. Its `Dialer` opens a subscribed socket for a user and reads the titles
of the notifications that arrive on it; it is a plain dataclass so that client processes can
be handed one as JSON (`dialer_from_json`) when one process cannot hold every socket. Its
`Server` adds the process and the publish call.
"""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
import jwt
import websockets
from websockets.asyncio.client import ClientConnection

from bench.common import asyncpg_dsn
from bench.processes import serving
from bench.socketio_peer import NotInstalled, SocketIODialer, require_installed, socketio
from tests.conftest import free_port

# Idle keep-alive connections are dropped before the servers would drop them (uvicorn and Node
# after 5 s): a request sent on a connection the server is closing fails with a read error.
PUBLISHER_LIMITS = httpx.Limits(keepalive_expiry=2)
REDIS_URL = os.environ.get("BELFRY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SUBSCRIPTION = "subscription { inbox { kind unreadCount notification { id title } } }"
PUBLISH = (
    "mutation($input: PublishNotificationInput!) { publishNotification(input: $input) { count } }"
)


class Dialer(Protocol):
    kind: str

    async def connect(self, user: str) -> ClientConnection:
        """A socket subscribed to `user`'s notifications, past any handshake."""
        ...

    async def next_title(self, socket: ClientConnection) -> str:
        """The title of the next notification on the socket, answering keep-alives on the way."""
        ...


def text(frame: str | bytes) -> str:
    return frame.decode() if isinstance(frame, bytes) else frame


async def open_socket(url: str, subprotocols: list[str] | None = None) -> ClientConnection:
    # No compression: every system sends plain frames, as browsers mostly meet them.
    return await websockets.connect(
        url,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        compression=None,
        max_queue=None,  # a benchmark socket buffers rather than pausing its reads
        open_timeout=60,
    )


@dataclass
class BelfryDialer:
    """graphql-transport-ws with a user token the tenant's signing secret mints here, as a host
    backend would mint it."""

    url: str
    tenant_id: str
    signing_secret: str
    kind: str = "belfry"

    def token(self, user: str) -> str:
        expires = datetime.now(UTC) + timedelta(hours=2)
        claims = {"sub": user, "tid": self.tenant_id, "exp": expires}
        return jwt.encode(claims, self.signing_secret, algorithm="HS256")

    async def connect(self, user: str) -> ClientConnection:
        socket = await open_socket(f"{self.url}/graphql", ["graphql-transport-ws"])
        init = {
            "type": "connection_init",
            "payload": {"authorization": f"Bearer {self.token(user)}"},
        }
        await socket.send(json.dumps(init))
        assert "connection_ack" in text(await socket.recv())
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
        await socket.send(json.dumps(subscribe))
        assert "SYNC" in text(await socket.recv())
        return socket

    async def next_title(self, socket: ClientConnection) -> str:
        while True:
            message = json.loads(await socket.recv())
            if message["type"] == "next":
                title: str = message["payload"]["data"]["inbox"]["notification"]["title"]
                return title
            if message["type"] == "ping":
                await socket.send('{"type":"pong"}')


@dataclass
class RawDialer:
    url: str
    kind: str = "raw"

    async def connect(self, user: str) -> ClientConnection:
        return await open_socket(f"{self.url}/ws/{user}")

    async def next_title(self, socket: ClientConnection) -> str:
        message = json.loads(await socket.recv())
        title: str = message["payload"]["data"]["inbox"]["notification"]["title"]
        return title


DIALERS: dict[str, Callable[..., Dialer]] = {
    "belfry": BelfryDialer,
    "raw": RawDialer,
    "socketio": SocketIODialer,
}


def dialer_to_json(dialer: Dialer) -> str:
    return json.dumps(asdict(dialer))  # type: ignore[call-overload]


def dialer_from_json(spec: str) -> Dialer:
    fields = json.loads(spec)
    return DIALERS[fields["kind"]](**fields)


@dataclass
class Server:
    """One system under test: its process, how to reach its sockets and how to publish."""

    name: str
    pid: int
    dialer: Dialer
    # One notification titled `title` to each of `recipients`.
    publish: Callable[[list[str], str], Coroutine[Any, Any, None]]
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # what a publisher sends (an API key)


def create_tenant(env: dict[str, str]) -> dict[str, str]:
    command = [sys.executable, "-m", "app.cli", "create-tenant", "bench", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    tenant: dict[str, str] = json.loads(done.stdout)
    return tenant


@asynccontextmanager
async def belfry(
    db_url: str, users: list[str], extra_env: dict[str, str] | None = None
) -> AsyncIterator[Server]:
    """An API replica as in production, on PostgreSQL and Redis: workers (delivery, digests,
    retention) run elsewhere. `users` exist before anyone subscribes."""
    port = free_port()
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": db_url,
        "BELFRY_BROADCAST_URL": REDIS_URL,
        "BELFRY_EMBEDDED_JOBS": "false",
        "BELFRY_LOG_LEVEL": "warning",
        # Every benchmark socket comes from one loopback address, and one API key publishes
        # far above its default rate; the limiter still runs, so its cost is measured.
        "BELFRY_MAX_SOCKETS_PER_ADDRESS": "1000000",
        "BELFRY_RATE_LIMIT_API_KEY": "100000000",
        **(extra_env or {}),
    }
    # The tenant is made while the server starts: each process takes seconds to import.
    creating = asyncio.get_running_loop().run_in_executor(None, create_tenant, env)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"]
    url = f"http://127.0.0.1:{port}"
    with serving(command, env, port) as pid:
        tenant = await creating
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=PUBLISHER_LIMITS) as client:
            headers = {"authorization": f"Bearer {tenant['apiKey']}"}

            async def publish(recipients: list[str], title: str) -> None:
                variables = {
                    "input": {
                        "recipients": recipients,
                        "category": "call.daily_summary",
                        "title": title,
                    }
                }
                response = await client.post(
                    "/graphql", json={"query": PUBLISH, "variables": variables}, headers=headers
                )
                assert response.json()["data"]["publishNotification"]["count"] == len(recipients)

            for first in range(0, len(users), 1000):  # creates the users
                await publish(users[first : first + 1000], "setup")
            dialer = BelfryDialer(
                url.replace("http", "ws", 1), tenant["tenantId"], tenant["signingSecret"]
            )
            yield Server("belfry", pid, dialer, publish, url, headers)


@asynccontextmanager
async def raw(db_url: str) -> AsyncIterator[Server]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.raw_server",
        "--port",
        str(port),
        "--dsn",
        asyncpg_dsn(db_url),
        "--redis",
        REDIS_URL,
    ]
    url = f"http://127.0.0.1:{port}"
    with serving(command, dict(os.environ), port) as pid:
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=PUBLISHER_LIMITS) as client:

            async def publish(recipients: list[str], title: str) -> None:
                body = {"recipients": recipients, "title": title}
                response = await client.post("/publish", json=body)
                assert response.json()["count"] == len(recipients)

            yield Server("raw", pid, RawDialer(url.replace("http", "ws", 1)), publish, url)


ServerFactory = Callable[[str, list[str]], AbstractAsyncContextManager[Server]]


def systems() -> dict[str, ServerFactory]:
    """Every system a benchmark compares, raw first: the others' ratios are to it. The
    socket.io peer takes part when its packages are installed."""
    found: dict[str, ServerFactory] = {"raw": lambda db_url, users: raw(db_url), "belfry": belfry}
    try:
        require_installed()
    except NotInstalled:
        return found
    found["socketio"] = lambda db_url, users: socketio(db_url)
    return found


def user_names(count: int) -> list[str]:
    # Names of this run only: another run's raw server on the same Redis hears every raw
    # channel, and must not find a socket of its own under one of them.
    run_id = uuid.uuid4().hex[:8]
    return [f"u{run_id}-{i}" for i in range(count)]


@asynccontextmanager
async def serving_all(db_url: str, users: list[str]) -> AsyncIterator[dict[str, Server]]:
    """A fresh server process of every system, each knowing `users`."""
    async with AsyncExitStack() as stack:
        yield {
            name: await stack.enter_async_context(start(db_url, users))
            for name, start in systems().items()
        }


def ratios(figures: dict[str, dict[str, float]], keys: list[str]) -> dict[str, dict[str, float]]:
    base = figures["raw"]
    return {
        name: {key: round(values[key] / base[key], 2) for key in keys if base[key]}
        for name, values in figures.items()
        if name != "raw"
    }
