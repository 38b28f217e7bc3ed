"""Publish-to-frame latency with 1,000 subscribers connected, Belfry beside a raw baseline.

Both servers run side by side as their own processes on PostgreSQL and Redis; this process
holds every websocket, publishes one notification to all of a server's subscribers per
round, alternating between the servers, and times each frame from the start of the publish
call. The raw baseline (bench/raw_fanout_server.py) does the same job with plain asyncpg,
redis-py and Starlette websockets. Also printed: the median time to a round's last frame,
server CPU per round and resident memory per connected socket.

    uv run python -m bench.fanout [--subscribers 1000] [--rounds 40]
"""

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import websockets
from websockets.asyncio.client import ClientConnection

from bench.common import asyncpg_dsn, report, run, scratch_database, summary
from tests.conftest import free_port

REDIS_URL = os.environ.get("BELFRY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SUBSCRIPTION = "subscription { inbox { kind unreadCount notification { id title } } }"
PUBLISH = (
    "mutation($input: PublishNotificationInput!) { publishNotification(input: $input) { count } }"
)

Connect = Callable[[int], Awaitable[ClientConnection]]
Publish = Callable[[int], Awaitable[None]]


def proc_field(pid: int, name: str) -> str:
    with open(f"/proc/{pid}/{name}") as f:
        return f.read()


def cpu_seconds(pid: int) -> float:
    fields = proc_field(pid, "stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in proc_field(pid, "status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@contextmanager
def serving(args: list[str], env: dict[str, str], port: int) -> Iterator[int]:
    """Runs a server process until it answers HTTP; yields its pid."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def collections_between_rounds() -> Iterator[None]:
    """This process holds every socket, so its own full garbage collections (about 90 ms with
    1,000 sockets open) would stall the frames of whichever server is being measured. They run
    between rounds instead, outside the timed window."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def received_at(socket: ClientConnection) -> tuple[str, float]:
    frame = await socket.recv()
    text = frame.decode() if isinstance(frame, bytes) else frame
    return text, time.perf_counter()


@dataclass
class Target:
    """One server under test, with its subscribers and what was measured of it."""

    pid: int
    connect: Connect
    publish: Publish
    sockets: list[ClientConnection] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    last_frames: list[float] = field(default_factory=list)
    rss_kib_per_socket: float = 0.0

    async def subscribe_all(self, subscribers: int) -> None:
        idle_rss = rss_kib(self.pid)
        for start in range(0, subscribers, 100):  # in waves: the accept backlog never overflows
            self.sockets += await asyncio.gather(
                *[self.connect(i) for i in range(start, min(subscribers, start + 100))]
            )
        await asyncio.sleep(0.5)
        self.rss_kib_per_socket = (rss_kib(self.pid) - idle_rss) / subscribers

    async def round(self, round_no: int) -> None:
        """One publish to every subscriber; round 0 warms up and is not counted."""
        began = time.perf_counter()
        arrivals = [asyncio.create_task(received_at(s)) for s in self.sockets]
        await self.publish(round_no)
        frames = await asyncio.wait_for(asyncio.gather(*arrivals), timeout=60)
        assert all("CREATED" in text for text, _ in frames)
        if round_no:
            self.latencies += [(at - began) * 1000 for _, at in frames]
            self.last_frames.append((max(at for _, at in frames) - began) * 1000)


async def measure(targets: dict[str, Target], subscribers: int, rounds: int) -> dict[str, Any]:
    """Connects every subscriber of every target, then runs the rounds, alternating between
    the targets so that both meet the same machine: its noise drifts over a run."""
    for target in targets.values():
        await target.subscribe_all(subscribers)
    cpu_before = {name: cpu_seconds(t.pid) for name, t in targets.items()}
    with collections_between_rounds():
        for round_no in range(rounds + 1):
            for target in targets.values():
                await target.round(round_no)
                gc.collect()
    figures = {}
    for name, target in targets.items():
        cpu_ms = (cpu_seconds(target.pid) - cpu_before[name]) * 1000 / (rounds + 1)
        figures[name] = {
            **summary(target.latencies),
            "last_frame_p50_ms": round(statistics.median(target.last_frames), 3),
            "server_cpu_ms_per_round": round(cpu_ms, 1),
            "rss_kib_per_socket": round(target.rss_kib_per_socket, 1),
        }
        for socket in target.sockets:
            await socket.close()
    return figures


def create_tenant(env: dict[str, str]) -> dict[str, str]:
    command = [sys.executable, "-m", "app.cli", "create-tenant", "bench", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    tenant: dict[str, str] = json.loads(done.stdout)
    return tenant


@asynccontextmanager
async def belfry(db_url: str, subscribers: int) -> AsyncIterator[Target]:
    port = free_port()
    # An API replica as in production: workers (delivery, digests, retention) run elsewhere.
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": db_url,
        "BELFRY_BROADCAST_URL": REDIS_URL,
        "BELFRY_EMBEDDED_JOBS": "false",
    }
    tenant = create_tenant(env)
    users = [f"user-{i}" for i in range(subscribers)]
    expires = datetime.now(UTC) + timedelta(hours=1)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"]
    with serving(command, {**env, "BELFRY_LOG_LEVEL": "warning"}, port) as pid:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

            async def publish(round_no: int) -> None:
                variables = {
                    "input": {
                        "recipients": users,
                        "category": "call.daily_summary",
                        "title": f"round {round_no}",
                    }
                }
                response = await client.post(
                    "/graphql",
                    json={"query": PUBLISH, "variables": variables},
                    headers={"authorization": f"Bearer {tenant['apiKey']}"},
                )
                assert response.json()["data"]["publishNotification"]["count"] == subscribers

            async def connect(i: int) -> ClientConnection:
                # The tenant's signing secret mints tokens here, as a host backend would.
                claims = {"sub": users[i], "tid": tenant["tenantId"], "exp": expires}
                token = jwt.encode(claims, tenant["signingSecret"], algorithm="HS256")
                socket = await websockets.connect(
                    f"ws://127.0.0.1:{port}/graphql",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    compression=None,
                )
                init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                await socket.send(json.dumps(init))
                assert "connection_ack" in (await received_at(socket))[0]
                subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
                await socket.send(json.dumps(subscribe))
                assert "SYNC" in (await received_at(socket))[0]
                return socket

            await publish(-1)  # creates the users before anyone connects
            yield Target(pid, connect, publish)


@asynccontextmanager
async def raw(db_url: str, subscribers: int) -> AsyncIterator[Target]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.raw_fanout_server",
        "--port",
        str(port),
        "--dsn",
        asyncpg_dsn(db_url),
        "--redis",
        REDIS_URL,
    ]
    users = [f"user-{i}" for i in range(subscribers)]
    with serving(command, dict(os.environ), port) as pid:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

            async def publish(round_no: int) -> None:
                body = {"recipients": users, "title": f"round {round_no}"}
                response = await client.post("/publish", json=body)
                assert response.json()["count"] == subscribers

            async def connect(i: int) -> ClientConnection:
                return await websockets.connect(
                    f"ws://127.0.0.1:{port}/ws/{users[i]}", compression=None
                )

            yield Target(pid, connect, publish)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    async with (
        scratch_database() as db_url,
        raw(db_url, args.subscribers) as raw_target,
        belfry(db_url, args.subscribers) as belfry_target,
    ):
        measured = await measure(
            {"raw": raw_target, "belfry": belfry_target}, args.subscribers, args.rounds
        )
    ours, base = measured["belfry"], measured["raw"]
    figures = {
        "subscribers": args.subscribers,
        "rounds": args.rounds,
        **measured,
        "p50_ratio": round(ours["p50_ms"] / base["p50_ms"], 2),
        "p99_ratio": round(ours["p99_ms"] / base["p99_ms"], 2),
        "last_frame_ratio": round(ours["last_frame_p50_ms"] / base["last_frame_p50_ms"], 2),
    }
    report("fanout", figures)
    print(
        f"{args.subscribers} subscribers: p99 belfry {ours['p99_ms']} ms vs raw "
        f"{base['p99_ms']} ms -> x{figures['p99_ratio']} (target: within x2)"
    )


if __name__ == "__main__":
    run(main)
