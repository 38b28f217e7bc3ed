"""A steady stream: with 1,000 subscribers connected to each system, 200 notifications per
second, each to one user chosen at random, published over HTTP; the time from the start of the
publish call to the frame on the user's socket. This is what a user's badge feels most of the
day; bench/broadcast.py measures the other case, one publish to everyone.

Side by side in one run, in short blocks that rotate between the systems so that all of them
meet the same machine noise: the raw baseline (bench/raw_server.py: Starlette, asyncpg INSERT,
Redis PUBLISH, websocket send), socket.io with its Redis adapter (bench/socketio/, when its
packages are installed) and Belfry. Also printed: each server's resident memory per subscribed
socket. The figures are the medians of `--runs` runs.

    uv run python -m bench.steady [--subscribers 1000] [--rate 200] [--seconds 15] [--runs 3]
"""

import argparse
import asyncio
import gc
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from bench.common import report, run, scratch_database, summary
from bench.processes import collections_between_rounds, cpu_seconds, rss_kib
from bench.servers import Server, serving_all, user_names

BLOCK_SECONDS = 2.5  # each system's share of the stream before the next one's turn


@dataclass
class Stream:
    """One system's subscribers and what arrived on them."""

    server: Server
    sockets: dict[str, ClientConnection] = field(default_factory=dict)
    sent: dict[str, tuple[str, float]] = field(default_factory=dict)  # title: (user, time)
    latencies: list[float] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0
    rss_kib_per_socket: float = 0.0
    cpu_seconds: float = 0.0  # the server's, over the counted blocks
    published: int = 0  # in the counted blocks
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def subscribe(self, users: list[str]) -> None:
        idle = rss_kib(self.server.pid)
        for first in range(0, len(users), 100):  # in waves: the accept backlog never overflows
            wave = users[first : first + 100]
            sockets = await asyncio.gather(*(self.server.dialer.connect(u) for u in wave))
            self.sockets.update(zip(wave, sockets, strict=True))
        await asyncio.sleep(0.5)
        self.rss_kib_per_socket = (rss_kib(self.server.pid) - idle) / len(users)
        self.readers = [asyncio.create_task(self.read(u, s)) for u, s in self.sockets.items()]

    async def read(self, user: str, socket: ClientConnection) -> None:
        while True:
            title = await self.server.dialer.next_title(socket)
            to, sent_at = self.sent.pop(title)
            if to != user:
                raise AssertionError(f"{self.server.name}: {title} for {to} reached {user}")
            self.latencies.append((time.perf_counter() - sent_at) * 1000)
            if len(self.latencies) == self.expected:
                self.arrived.set()

    async def publish_on_schedule(self, rate: float, seconds: float, first_seq: int) -> int:
        """`rate` publishes a second for `seconds`, each to one subscriber at random and started
        on schedule whether or not the earlier ones have answered (an open loop, as independent
        callers would); returns how many once all have answered."""
        count = int(rate * seconds)
        self.expected = len(self.latencies) + count
        self.arrived.clear()
        users = list(self.sockets)
        calls: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            title, user = f"m{first_seq + i}", random.choice(users)
            self.sent[title] = (user, time.perf_counter())
            calls.append(asyncio.create_task(self.server.publish([user], title)))
        try:
            await asyncio.wait_for(asyncio.gather(*calls), timeout=60)
        except (TimeoutError, httpx.TimeoutException) as error:
            for call in calls:
                call.cancel()
            raise RuntimeError(
                f"{self.server.name} cannot keep up with {rate:g} publishes a second here (one "
                "waited over 60 s for an answer): lower --rate"
            ) from error
        return count

    async def all_arrived(self, within: float) -> bool:
        """Whether every frame arrived in time; a reader's failure (a frame on the wrong
        socket) is raised."""
        done = asyncio.create_task(self.arrived.wait())
        await asyncio.wait([done, *self.readers], timeout=within, return_when="FIRST_COMPLETED")
        done.cancel()
        for reader in self.readers:
            if reader.done():
                reader.result()
        return self.arrived.is_set()

    async def block(self, rate: float, seconds: float, first_seq: int, counted: bool) -> None:
        latencies_before = len(self.latencies)
        cpu_before = cpu_seconds(self.server.pid)
        count = await self.publish_on_schedule(rate, seconds, first_seq)
        if not await self.all_arrived(within=60):
            raise TimeoutError(f"{self.server.name}: {self.expected - len(self.latencies)} lost")
        if counted:
            self.cpu_seconds += cpu_seconds(self.server.pid) - cpu_before
            self.published += count
        else:
            del self.latencies[latencies_before:]

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(s.close() for s in self.sockets.values()))


async def one_run(
    streams: list[Stream], rate: float, seconds: float
) -> dict[str, dict[str, float]]:
    for stream in streams:
        stream.latencies.clear()
    blocks = max(1, round(seconds / BLOCK_SECONDS))
    seq = 0
    with collections_between_rounds():
        for block in range(-1, blocks):  # block -1 warms every system up
            order = streams[block % len(streams) :] + streams[: block % len(streams)]
            for stream in order:
                await stream.block(rate, seconds / blocks, seq, counted=block >= 0)
                seq += int(rate * seconds)
                gc.collect()
    return {s.server.name: summary(s.latencies) for s in streams}


async def measure(
    db_url: str, subscribers: int, rate: float, seconds: float, runs: int
) -> dict[str, Any]:
    users = user_names(subscribers)
    async with serving_all(db_url, users) as servers:
        streams = [Stream(server) for server in servers.values()]
        for stream in streams:
            await stream.subscribe(users)
        try:
            results = [await one_run(streams, rate, seconds) for _ in range(runs)]
        finally:
            for stream in streams:
                await stream.close()
    figures: dict[str, Any] = {}
    base = statistics.median(r["raw"]["p99_ms"] for r in results)
    for stream in streams:
        name = stream.server.name
        p99 = statistics.median(r[name]["p99_ms"] for r in results)
        figures[name] = {
            "p50_ms": round(statistics.median(r[name]["p50_ms"] for r in results), 3),
            "p99_ms": round(p99, 3),
            "kib_per_socket": round(stream.rss_kib_per_socket, 1),
            "p99_over_raw": round(p99 / base, 2),
            # Past one core's worth at the stream's rate, a server queues and its latency grows.
            "server_cpu_ms_per_publish": round(stream.cpu_seconds * 1000 / stream.published, 2),
        }
    return {
        "subscribers": subscribers,
        "rate": rate,
        "seconds": seconds,
        "runs": runs,
        "systems": figures,
    }


def table(figures: dict[str, Any]) -> str:
    lines = [
        "| system | p50 ms | p99 ms | KiB per socket | p99 / raw | server CPU ms per publish |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in figures["systems"].items():
        cells = [name, f["p50_ms"], f["p99_ms"], f["kib_per_socket"], f["p99_over_raw"]]
        cells.append(f["server_cpu_ms_per_publish"])
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200, help="publishes per second")
    parser.add_argument("--seconds", type=float, default=15, help="of stream per system per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    async with scratch_database() as db_url:
        figures = await measure(db_url, args.subscribers, args.rate, args.seconds, args.runs)
    report("steady", figures)
    print(table(figures))


if __name__ == "__main__":
    run(main)
