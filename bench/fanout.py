"""Publish-to-frame latency with 1,000 subscribers connected, Belfry beside a raw baseline.

Both servers run as their own processes on PostgreSQL and Redis; this process holds every
websocket, publishes one notification to all subscribers per round, and times each frame
from the start of the publish call. The raw baseline (bench/raw_fanout_server.py) does the
same job with plain asyncpg, redis-py and Starlette websockets.

    uv run python -m bench.fanout [--subscribers 1000] [--rounds 20]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
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


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@contextmanager
def process(args: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def open_all(count: int, connect: Callable[[int], Awaitable[ClientConnection]]) -> list[ClientConnection]:
    sockets: list[ClientConnection] = []
    for start in range(0, count, 100):  # in waves, so the accept backlog never overflows
        sockets += await asyncio.gather(*[connect(i) for i in range(start, min(count, start + 100))])
    return sockets


def _arrival_times(tasks: list[asyncio.Task[Any]]) -> list[float]:
    return [t.arrived_at for t in tasks]  # type: ignore[attr-defined]


async def timed_recv(socket: ClientConnection) -> str | bytes:
    frame = await socket.recv()
    asyncio.current_task().arrived_at = time.perf_counter()  # type: ignore[union-attr]
    return frame


async def bench_belfry(db_url: str, subscribers: int, rounds: int) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "BELFRY_DATABASE_URL": db_url, "BELFRY_BROADCAST_URL": REDIS_URL,
           "BELFRY_LOG_LEVEL": "warning"}
    tenant = json.loads(subprocess.run(
        [sys.executable, "-m", "app.cli", "create-tenant", "bench", "--json"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout)
    users = [f"user-{i}" for i in range(subscribers)]
    expires = datetime.now(UTC) + timedelta(hours=1)

    def token(i: int) -> str:
        claims = {"sub": users[i], "tid": tenant["tenantId"], "exp": expires}
        return jwt.encode(claims, tenant["signingSecret"], algorithm="HS256")

    with process([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"],
                 env, port) as server:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            headers = {"authorization": f"Bearer {tenant['apiKey']}"}
            mutation = ("mutation($input: PublishNotificationInput!) "
                        "{ publishNotification(input: $input) { count } }")

            async def publish(round_no: int) -> None:
                variables = {"input": {"recipients": users, "category": "bench.fanout",
                                       "title": f"round {round_no}"}}
                response = await client.post("/graphql", json={"query": mutation,
                                                                "variables": variables},
                                             headers=headers)
                assert response.json()["data"]["publishNotification"]["count"] == subscribers

            await publish(-1)  # creates the users
            idle_rss = rss_kib(server.pid)

            async def connect(i: int) -> ClientConnection:
                socket = await websockets.connect(
                    f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    compression=None, max_size=None,
                )
                await socket.send(json.dumps({"type": "connection_init",
                                              "payload": {"authorization": f"Bearer {token(i)}"}}))
                assert json.loads(await socket.recv())["type"] == "connection_ack"
                await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                              "payload": {"query": SUBSCRIPTION}}))
                first = await socket.recv()
                assert "SYNC" in (first.decode() if isinstance(first, bytes) else first)
                return socket

            sockets = await open_all(subscribers, connect)
            connected_rss = rss_kib(server.pid)
            cpu_before = cpu_seconds(server.pid)
            latencies = await measure_with_timestamps(sockets, rounds, publish)
            cpu_ms_per_round = (cpu_seconds(server.pid) - cpu_before) * 1000 / (rounds + 1)
            for socket in sockets:
                await socket.close()
    return {
        **summary(latencies),
        "server_cpu_ms_per_round": round(cpu_ms_per_round, 1),
        "rss_kib_per_socket": round((connected_rss - idle_rss) / subscribers, 1),
    }


async def measure_with_timestamps(
    sockets: list[ClientConnection], rounds: int, publish: Callable[[int], Awaitable[None]]
) -> list[float]:
    latencies: list[float] = []
    for round_no in range(rounds + 1):  # round 0 warms up
        start = time.perf_counter()
        arrivals = [asyncio.create_task(timed_recv(s)) for s in sockets]
        await publish(round_no)
        frames = await asyncio.wait_for(asyncio.gather(*arrivals), timeout=60)
        assert all("CREATED" in (f.decode() if isinstance(f, bytes) else f) for f in frames)
        if round_no:
            latencies += [(t - start) * 1000 for t in _arrival_times(arrivals)]
    return latencies


async def bench_raw(db_url: str, subscribers: int, rounds: int) -> dict[str, Any]:
    port = free_port()
    args = [sys.executable, "-m", "bench.raw_fanout_server", "--port", str(port),
            "--dsn", asyncpg_dsn(db_url), "--redis", REDIS_URL]
    users = [f"user-{i}" for i in range(subscribers)]
    with process(args, dict(os.environ), port) as server:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

            async def publish(round_no: int) -> None:
                response = await client.post(
                    "/publish", json={"recipients": users, "title": f"round {round_no}"}
                )
                assert response.json()["count"] == subscribers

            idle_rss = rss_kib(server.pid)

            async def connect(i: int) -> ClientConnection:
                return await websockets.connect(f"ws://127.0.0.1:{port}/ws/{users[i]}",
                                                compression=None, max_size=None)

            sockets = await open_all(subscribers, connect)
            await asyncio.sleep(0.5)  # let the server register every socket
            connected_rss = rss_kib(server.pid)
            cpu_before = cpu_seconds(server.pid)
            latencies = await measure_with_timestamps(sockets, rounds, publish)
            cpu_ms_per_round = (cpu_seconds(server.pid) - cpu_before) * 1000 / (rounds + 1)
            for socket in sockets:
                await socket.close()
    return {
        **summary(latencies),
        "server_cpu_ms_per_round": round(cpu_ms_per_round, 1),
        "rss_kib_per_socket": round((connected_rss - idle_rss) / subscribers, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    async with scratch_database() as db_url:
        raw = await bench_raw(db_url, args.subscribers, args.rounds)
        belfry = await bench_belfry(db_url, args.subscribers, args.rounds)
    figures = {
        "subscribers": args.subscribers,
        "rounds": args.rounds,
        "belfry": belfry,
        "raw": raw,
        "p50_ratio": round(belfry["p50_ms"] / raw["p50_ms"], 2),
        "p99_ratio": round(belfry["p99_ms"] / raw["p99_ms"], 2),
    }
    report("fanout", figures)
    print(
        f"{args.subscribers} subscribers: p99 belfry {belfry['p99_ms']} ms vs raw "
        f"{raw['p99_ms']} ms -> x{figures['p99_ratio']} (target: within x2)"
    )


if __name__ == "__main__":
    run(main)
