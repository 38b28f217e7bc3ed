"""A subscriber that never reads must not slow anyone else down nor grow the server's memory.

With `--subscribers` healthy subscribers connected to each system, a steady stream of
`--rate` publishes a second, each to one healthy user at random (as bench/steady.py), and the
time from the start of the publish call to the frame on the user's socket. Two phases, in
blocks that alternate so that both meet the same machine noise:

- without: no stalled subscriber;
- with: `--stalled` subscribers that did the websocket upgrade (and, on Belfry, signed in and
  subscribed over graphql-transport-ws) on a plain socket with a small receive buffer, then
  never read again. Before the block is timed they are flooded until their TCP windows are
  shut: the server's kernel holds unsent bytes for each of them and neither queue moves while
  the flood goes on (read from /proc/net/tcp), so the server can no longer send to them.

In both phases a flood of `--flood-rate` publishes a second goes to the stalled users, each a
frame of about 4 KiB (Belfry caps a title at 500 characters, so the stalled subscription asks
for the title under 8 aliases; the raw baseline gets a 4,000-character title), and the stream
starts after a lead-in of as many flood publishes as the last filling took: the server does
the same publishing work in both phases, and only in the second are there sockets it cannot
write to, so an unbounded server would keep buffering. The server's resident memory is
sampled every 0.5 s from /proc throughout each block; each block prints a line as it ends,
and the figures go to bench/results/stalled.json.

Belfry and the raw baseline (bench/raw_server.py) run in the same run. Raw's one listener loop
awaits each send, so a stalled socket stalls every one of its subscribers, and once the
stalled sockets go its listener has failed; so its with-phase runs once, in the last round,
and a block whose frames do not all arrive in time is reported as stalled, not as a failure.

    uv run python -m bench.stalled [--subscribers 1000] [--stalled 10] [--rate 200]
        [--seconds 15] [--flood-rate 10]
"""

import argparse
import asyncio
import base64
import contextlib
import gc
import itertools
import json
import os
import random
import socket
import struct
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.common import report, run, scratch_database, summary
from bench.processes import collections_between_rounds, rss_kib
from bench.servers import BelfryDialer, RawDialer, Server, belfry, raw
from bench.steady import Stream

BLOCK_SECONDS = 5.0  # each phase's share of one round, per system
SAMPLE_SECONDS = 0.5  # between readings of the server's resident memory
RECEIVE_BUFFER = 4096  # the stalled sockets' SO_RCVBUF: their windows shut after a few frames
SEGMENT = 1460  # the stalled sockets' announced maximum segment size, as over Ethernet
FRAME_PAYLOAD = 4000  # characters of title a flood frame carries
ALIASES = 8  # Belfry: 8 copies of a 500-character title
FLOOD_TITLE = {"belfry": FRAME_PAYLOAD // ALIASES, "raw": FRAME_PAYLOAD}
STALLED_SUBSCRIPTION = (
    "subscription { inbox { kind unreadCount notification { id "
    + " ".join(f"t{i}: title" for i in range(ALIASES))
    + " } } }"
)
HIGH_WATER = 64 * 1024  # asyncio's default for a transport's write buffer
FILL_TIMEOUT = 30.0  # for the stalled sockets' windows to shut


# A websocket client on a plain socket: only what the handshake needs, so that after it the
# socket is never read, not even by a library's background reader.


def masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


class FrameReader:
    """Reads whole frames from a server (unmasked), only when asked."""

    def __init__(self, sock: socket.socket, buffered: bytes = b"") -> None:
        self.sock = sock
        self.buffer = buffered

    async def _fill(self, size: int) -> None:
        loop = asyncio.get_running_loop()
        while len(self.buffer) < size:
            chunk = await loop.sock_recv(self.sock, 65536)
            if not chunk:
                raise ConnectionError("the server closed the socket during the handshake")
            self.buffer += chunk

    async def _take(self, size: int) -> bytes:
        await self._fill(size)
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    async def next_text(self) -> str:
        while True:
            first, second = await self._take(2)
            size = second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", await self._take(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", await self._take(8))
            payload = await self._take(size)
            if first & 0x0F == 0x1:
                return payload.decode()


async def upgraded(url: str, subprotocol: str | None) -> tuple[socket.socket, FrameReader]:
    """A socket past the websocket upgrade, with a receive buffer too small to hide a stall."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Before connecting: the window the client advertises is set from it.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    # Loopback's 64 KiB segments would let the server's kernel grow its send buffer to
    # megabytes (it scales with the segment size) before the server itself saw the stall;
    # announcing an Ethernet-sized segment keeps it to what a real client would cause.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, SEGMENT)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_connect(sock, (host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {parts.path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = await loop.sock_recv(sock, 4096)
            if not chunk:
                raise ConnectionError("the server closed the socket during the upgrade")
            response += chunk
        head, rest = response.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"upgrade refused: {head.splitlines()[0]!r}")
        return sock, FrameReader(sock, rest)
    except BaseException:
        sock.close()
        raise


async def stalled_socket(server: Server, user: str) -> socket.socket:
    """A socket subscribed to `user`'s notifications that will never be read again."""
    dialer = server.dialer
    if isinstance(dialer, BelfryDialer):
        sock, frames = await upgraded(f"{dialer.url}/graphql", "graphql-transport-ws")
        loop = asyncio.get_running_loop()
        init = {
            "type": "connection_init",
            "payload": {"authorization": f"Bearer {dialer.token(user)}"},
        }
        await loop.sock_sendall(sock, masked_text_frame(json.dumps(init)))
        assert json.loads(await frames.next_text())["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": STALLED_SUBSCRIPTION}}
        await loop.sock_sendall(sock, masked_text_frame(json.dumps(subscribe)))
        assert "SYNC" in await frames.next_text()
        return sock
    assert isinstance(dialer, RawDialer)
    sock, _ = await upgraded(f"{dialer.url}/ws/{user}", None)  # the raw server accepts at once
    return sock


def reset(sock: socket.socket) -> None:
    """Closes with a reset, as a client that vanished would: a FIN would queue behind the
    unread bytes and the server would not know until its keep-alive gave up."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# The kernel's view of the stalled connections.


def tcp_queues() -> dict[tuple[int, int], tuple[int, int]]:
    """(local port, remote port) -> (bytes queued to send, bytes received and unread) for each
    loopback IPv4 TCP socket."""
    queues: dict[tuple[int, int], tuple[int, int]] = {}
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote = fields[1].split(":"), fields[2].split(":")
            if local[0] != "0100007F":
                continue
            tx, rx = (int(v, 16) for v in fields[4].split(":"))
            queues[(int(local[1], 16), int(remote[1], 16))] = (tx, rx)
    return queues


@dataclass
class Stall:
    """One stalled socket as the kernels on both ends see it."""

    server_unsent: int  # bytes the server's kernel holds for it and cannot send
    client_unread: int  # bytes in its receive buffer


def stalls(socks: list[socket.socket], server_port: int) -> list[Stall]:
    queues = tcp_queues()
    found = []
    for sock in socks:
        client_port = sock.getsockname()[1]
        unsent = queues.get((server_port, client_port), (0, 0))[0]
        unread = queues.get((client_port, server_port), (0, 0))[1]
        found.append(Stall(unsent, unread))
    return found


async def fill(socks: list[socket.socket], server_port: int, flood: "Flood") -> list[Stall]:
    """Waits, while the flood goes on, until no stalled socket's queues move any more and the
    server's kernel holds unsent bytes for each (every window is shut), or for any while none
    has moved for longer (the server has stopped writing to them altogether)."""
    deadline = time.monotonic() + FILL_TIMEOUT
    last = stalls(socks, server_port)
    still = 0
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        now = stalls(socks, server_port)
        still = 0 if now != last or flood.answered == 0 else still + 1
        last = now
        # Readings 0.25 s apart: several flood frames per socket go out between them.
        if (still >= 3 and all(s.server_unsent for s in now)) or (
            still >= 8 and any(s.server_unsent for s in now)
        ):
            break
    # The kernel's buffers are full; the server's own (asyncio's, up to its 64 KiB high-water
    # mark) fills next, and past it the server's send waits: enough more frames for that.
    more = flood.answered + HIGH_WATER // FRAME_PAYLOAD + 4
    await asyncio.wait_for(flood.answers(more), timeout=FILL_TIMEOUT)
    return last


def blocked(before: list[Stall], after: list[Stall]) -> int:
    """Sockets the server holds unsent bytes for that have not moved between two readings."""
    return sum(1 for b, a in zip(before, after, strict=True) if a.server_unsent and a == b)


# Load.


@dataclass
class Flood:
    """Publishes to the stalled users at a fixed rate until stopped."""

    server: Server
    users: list[str]
    rate: float
    answered: int = 0
    calls: list[asyncio.Task[None]] = field(default_factory=list)
    ticker: asyncio.Task[None] | None = None
    answer: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        self.ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        title = "x" * FLOOD_TITLE[self.server.name]
        start = time.perf_counter()
        for i in itertools.count():
            delay = start + i / self.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.calls.append(asyncio.create_task(self._publish(title)))

    async def _publish(self, title: str) -> None:
        await self.server.publish(self.users, title)
        self.answered += 1
        self.answer.set()

    async def answers(self, count: int) -> None:
        """Returns once `count` publishes have been answered."""
        while self.answered < count:
            self.answer.clear()
            await self.answer.wait()

    async def stop(self) -> int:
        """Stops publishing; returns how many publishes were answered."""
        if self.ticker is not None:
            self.ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ticker
        await asyncio.wait_for(asyncio.gather(*self.calls), timeout=60)
        self.calls.clear()
        return self.answered

    def abandon(self) -> None:
        """After a failure: nothing is left running."""
        for task in [self.ticker, *self.calls]:
            if task is not None:
                task.cancel()


@asynccontextmanager
async def sampling(pid: int, samples: list[int]) -> AsyncIterator[None]:
    """The server's resident memory every SAMPLE_SECONDS while the block runs, and at its end."""

    async def sample() -> None:
        while True:
            samples.append(rss_kib(pid))
            await asyncio.sleep(SAMPLE_SECONDS)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        samples.append(rss_kib(pid))


@dataclass
class Timed:
    latencies: list[float]
    expected: int

    @property
    def arrived(self) -> int:
        return len(self.latencies)


async def stream_block(
    stream: Stream, rate: float, seconds: float, first_seq: int, patience: float
) -> Timed:
    """As Stream.block (an open loop of one-user publishes), but a block whose frames do not
    all arrive in time ends with what did arrive rather than failing."""
    before = len(stream.latencies)
    count = await stream.publish_on_schedule(rate, seconds, first_seq)
    await stream.all_arrived(within=patience)
    return Timed(stream.latencies[before:], count)


@dataclass
class Phase:
    """What one system's blocks of one phase gave."""

    latencies: list[float] = field(default_factory=list)
    block_p99_ms: list[float] = field(default_factory=list)  # how much blocks differ
    expected: int = 0
    blocks: int = 0
    stalled_blocks: int = 0  # blocks whose frames did not all arrive in time
    rss_kib: list[list[int]] = field(default_factory=list)  # each block's samples
    flood_publishes: int = 0
    # with stalled sockets only
    # Before the stream: with stalled sockets, until their windows shut; without, as long
    lead_in_seconds: list[float] = field(default_factory=list)
    sockets_blocked: list[int] = field(default_factory=list)
    server_unsent_bytes: list[int] = field(default_factory=list)
    client_unread_bytes: list[int] = field(default_factory=list)
    recovered: bool | None = None  # raw: whether frames flowed again once the stalled went

    def add(self, timed: Timed) -> None:
        if timed.latencies:
            self.block_p99_ms.append(summary(timed.latencies)["p99_ms"])
        self.latencies += timed.latencies
        self.expected += timed.expected
        self.blocks += 1
        self.stalled_blocks += timed.arrived < timed.expected


@dataclass
class System:
    server: Server
    stream: Stream
    healthy: list[str]
    stalled_users: list[str]
    flood_rate: float
    patience: float  # seconds to wait for frames once a block's publishes have answered
    without: Phase = field(default_factory=Phase)
    with_stalled: Phase = field(default_factory=Phase)
    failed: bool = False  # frames stopped arriving: later blocks would only measure that
    # Flood publishes before a block is timed: as many as the stalled sockets' last filling
    # took (this until the first one).
    fill_publishes: int = 2 * (HIGH_WATER // FRAME_PAYLOAD + 4)

    @property
    def port(self) -> int:
        dialer = self.server.dialer
        assert isinstance(dialer, BelfryDialer | RawDialer)
        return urlsplit(dialer.url).port or 80

    async def block(self, stalled: bool, rate: float, seconds: float, seq: int) -> None:
        phase = self.with_stalled if stalled else self.without
        samples: list[int] = []
        socks: list[socket.socket] = []
        flood = Flood(self.server, self.stalled_users, self.flood_rate)
        try:
            async with sampling(self.server.pid, samples):
                if stalled:
                    socks = list(
                        await asyncio.gather(
                            *(stalled_socket(self.server, u) for u in self.stalled_users)
                        )
                    )
                flood.start()
                filling = time.perf_counter()
                if stalled:
                    await fill(socks, self.port, flood)
                    self.fill_publishes = flood.answered
                else:
                    # As long a lead-in as the stalled sockets' filling, flood included: the
                    # server meets the timed stream in the same state in both phases.
                    await asyncio.wait_for(flood.answers(self.fill_publishes), FILL_TIMEOUT)
                phase.lead_in_seconds.append(round(time.perf_counter() - filling, 2))
                timed = await stream_block(self.stream, rate, seconds, seq, self.patience)
                if stalled:
                    before = stalls(socks, self.port)
                    await asyncio.sleep(0.5)
                    after = stalls(socks, self.port)
                    phase.sockets_blocked.append(blocked(before, after))
                    phase.server_unsent_bytes.append(sum(s.server_unsent for s in after))
                    phase.client_unread_bytes.append(sum(s.client_unread for s in after))
                phase.flood_publishes += await flood.stop()
        finally:
            flood.abandon()
            for sock in socks:
                reset(sock)
        phase.add(timed)
        phase.rss_kib.append(samples)
        shown = summary(timed.latencies) if timed.latencies else {}
        print(
            f"{self.server.name} {'with' if stalled else 'without'} stalled: "
            f"{timed.arrived}/{timed.expected} frames {shown} "
            f"lead-in {phase.lead_in_seconds[-1]} s, RSS {samples[0]} -> "
            f"{max(samples)} -> {samples[-1]} KiB, {flood.answered} flood publishes",
            flush=True,
        )
        if timed.arrived < timed.expected:
            self.failed = True
            if stalled:
                phase.recovered = await self.probe()

    async def probe(self) -> bool:
        """Whether a frame reaches a healthy subscriber again now that the stalled are gone."""
        title = f"probe-{random.getrandbits(32)}"
        self.stream.sent[title] = (self.healthy[0], time.perf_counter())
        await self.server.publish([self.healthy[0]], title)
        for _ in range(max(1, round(self.patience / 0.1))):
            await asyncio.sleep(0.1)
            if title not in self.stream.sent:  # its reader has taken it
                return True
        return False


def rss_figures(blocks: list[list[int]]) -> dict[str, Any]:
    if not blocks:
        return {}
    return {
        "start": blocks[0][0],
        "peak": max(max(b) for b in blocks),
        "end": blocks[-1][-1],
        "samples": sum(len(b) for b in blocks),
        "per_block_start_peak_end": [[b[0], max(b), b[-1]] for b in blocks],
    }


def phase_figures(phase: Phase, stalled: int) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "blocks": phase.blocks,
        "frames_expected": phase.expected,
        "frames_arrived": len(phase.latencies),
        "stalled_blocks": phase.stalled_blocks,
        **(summary(phase.latencies) if phase.latencies else {"p50_ms": None, "p99_ms": None}),
        "p99_ms_per_block": phase.block_p99_ms,
        "rss_kib": rss_figures(phase.rss_kib),
        "lead_in_seconds_per_block": phase.lead_in_seconds,
        "flood_publishes": phase.flood_publishes,
        "flood_bytes_to_stalled_users": phase.flood_publishes * stalled * FRAME_PAYLOAD,
    }
    if phase.sockets_blocked:
        figures["stalled_sockets_blocked_per_block"] = phase.sockets_blocked
        figures["server_unsent_bytes_per_block"] = phase.server_unsent_bytes
        figures["client_unread_bytes_per_block"] = phase.client_unread_bytes
    if phase.recovered is not None:
        figures["recovered_once_stalled_closed"] = phase.recovered
    return figures


def system_figures(system: System, stalled: int) -> dict[str, Any]:
    without = phase_figures(system.without, stalled)
    with_stalled = phase_figures(system.with_stalled, stalled)
    figures = {"without_stalled": without, "with_stalled": with_stalled}
    if without["p99_ms"] and with_stalled["p99_ms"] and not with_stalled["stalled_blocks"]:
        figures["p99_with_over_without"] = round(with_stalled["p99_ms"] / without["p99_ms"], 3)
        figures["p50_with_over_without"] = round(with_stalled["p50_ms"] / without["p50_ms"], 3)
    return figures


def schedule(rounds: int) -> list[list[tuple[str, bool]]]:
    """Each round's blocks as (system, with stalled sockets). The order rotates round by round;
    raw's stalled block comes only in the last round, last: it leaves raw's listener broken."""
    found = []
    for r in range(rounds):
        belfry_pair = [("belfry", r % 2 == 1), ("belfry", r % 2 == 0)]
        blocks = [belfry_pair[0], ("raw", False), belfry_pair[1]]
        blocks = blocks[r % 3 :] + blocks[: r % 3]
        if r == rounds - 1:
            blocks.append(("raw", True))
        found.append(blocks)
    return found


@asynccontextmanager
async def systems(db_url: str, users: list[str]) -> AsyncIterator[dict[str, Server]]:
    async with AsyncExitStack() as stack:
        found = [
            await stack.enter_async_context(raw(db_url)),
            await stack.enter_async_context(belfry(db_url, users)),
        ]
        yield {server.name: server for server in found}


async def measure(
    db_url: str,
    subscribers: int = 1000,
    stalled: int = 10,
    rate: float = 200,
    seconds: float = 15,
    flood_rate: float = 10,
    patience: float = 10,
) -> dict[str, Any]:
    healthy = [f"user-{i}" for i in range(subscribers)]
    stalled_users = [f"stalled-{i}" for i in range(stalled)]
    rounds = max(1, round(seconds / BLOCK_SECONDS))
    block_seconds = seconds / rounds
    async with systems(db_url, healthy + stalled_users) as servers:
        by_name = {
            name: System(server, Stream(server), healthy, stalled_users, flood_rate, patience)
            for name, server in servers.items()
        }
        for system in by_name.values():
            await system.stream.subscribe(healthy)
        seq = 0
        try:
            with collections_between_rounds():
                for system in by_name.values():  # warm-up, not counted
                    warm_up = min(2.0, block_seconds)
                    await stream_block(system.stream, rate, warm_up, seq, patience)
                    seq += int(rate * block_seconds)
                    gc.collect()
                for blocks in schedule(rounds):
                    for name, with_stalled in blocks:
                        system = by_name[name]
                        if system.failed:
                            continue
                        await system.block(with_stalled, rate, block_seconds, seq)
                        seq += int(rate * block_seconds)
                        gc.collect()
        finally:
            for system in by_name.values():
                await system.stream.close()
    return {
        "subscribers": subscribers,
        "stalled": stalled,
        "rate": rate,
        "seconds": seconds,
        "rounds": rounds,
        "flood_rate": flood_rate,
        "flood_frame_payload_bytes": FRAME_PAYLOAD,
        "stalled_receive_buffer": RECEIVE_BUFFER,
        "systems": {name: system_figures(s, stalled) for name, s in by_name.items()},
    }


def summary_line(figures: dict[str, Any]) -> str:
    parts = []
    for name, f in figures["systems"].items():
        without, with_stalled = f["without_stalled"], f["with_stalled"]
        rss = with_stalled["rss_kib"]
        if with_stalled["stalled_blocks"]:
            healthy = (
                f"STALLED: {with_stalled['frames_arrived']} of "
                f"{with_stalled['frames_expected']} healthy frames arrived"
            )
        else:
            healthy = (
                f"p99 {with_stalled['p99_ms']} ms with / {without['p99_ms']} ms without = "
                f"{f['p99_with_over_without']}x"
            )
        parts.append(
            f"{name}: {healthy}; RSS over the stalled phase {rss['start']} -> peak "
            f"{rss['peak']} -> {rss['end']} KiB while "
            f"{with_stalled['flood_bytes_to_stalled_users'] / 1e6:.1f} MB went to "
            f"{figures['stalled']} stalled users"
        )
    return " | ".join(parts)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000, help="healthy ones")
    parser.add_argument("--stalled", type=int, default=10)
    # One Belfry process carries this with room to spare on 2 cores; bench.steady pushes 200/s.
    parser.add_argument("--rate", type=float, default=50, help="publishes per second")
    parser.add_argument("--seconds", type=float, default=30, help="of stream per phase")
    parser.add_argument(
        "--flood-rate", type=float, default=10, help="publishes a second to the stalled users"
    )
    args = parser.parse_args()
    async with scratch_database() as db_url:
        figures = await measure(
            db_url, args.subscribers, args.stalled, args.rate, args.seconds, args.flood_rate
        )
    report("stalled", figures)
    print(summary_line(figures))


if __name__ == "__main__":
    run(main)
