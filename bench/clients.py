"""A pool of subscribed sockets to one system, spread over child processes.

One process may open at most so many files, and one event loop reading 10,000 sockets would
itself be the bottleneck being measured, so a pool of N sockets runs ceil(N / per_child)
child processes, each dialling its share of the users with the system's `Dialer` (handed over
as JSON, as a process started afresh would need it). The parent drives each over a socket
pair, one JSON object per line each way:

    {"dialer": json, "users": [...]}            the first line: no answer
    {"op": "connect", "count": n, "wave": w}    -> {"connected": n}: the next n of its users
    {"op": "next", "title": "..."}              -> {"armed": n}, then once every socket has
                                                   its next notification (or a timeout passed)
                                                   {"arrivals": [...], "wrong": k, "missing": m}
    {"op": "close"}                             -> {"closed": n}, and the child exits

Arrival times are `time.perf_counter()`, CLOCK_MONOTONIC on Linux, so the parent can compare
them with its own clock.
"""

import asyncio
import contextlib
import gc
import json
import math
import multiprocessing
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, Self

import uvloop
from websockets.asyncio.client import ClientConnection

from bench.servers import Dialer, dialer_from_json, dialer_to_json

PER_CHILD = 5000
WAVE = 100  # sockets a child opens at once: the server's accept backlog never overflows
ROUND_TIMEOUT = 120.0
# A line carries up to PER_CHILD arrival times: far above asyncio's 64 KiB default.
LINE_LIMIT = 1 << 24


@dataclass(frozen=True, slots=True)
class Frames:
    """One notification to every socket of a pool: when the publish began, and when each
    socket's frame arrived (perf_counter seconds)."""

    began: float
    arrivals: list[float]
    wrong: int  # sockets whose next notification was not the one published
    missing: int  # sockets that got nothing before the timeout

    def latencies_ms(self) -> list[float]:
        return [(at - self.began) * 1000 for at in self.arrivals]

    def last_ms(self) -> float:
        return (max(self.arrivals) - self.began) * 1000


class _Child:
    def __init__(
        self, process: BaseProcess, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.process = process
        self.reader = reader
        self.writer = writer

    @classmethod
    async def start(cls) -> "_Child":
        ours, theirs = socket.socketpair()
        process = _FORKSERVER.Process(target=_run_child, args=(theirs,), daemon=True)
        process.start()
        theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours, limit=LINE_LIMIT)
        return cls(process, reader, writer)

    async def send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message).encode() + b"\n")
        await self.writer.drain()

    async def receive(self) -> dict[str, Any]:
        line = await self.reader.readline()
        if not line:
            raise RuntimeError(f"client process {self.process.pid} ended unexpectedly")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"client process {self.process.pid}: {answer['error']}")
        return answer

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.send(message)
        return await self.receive()

    async def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(RuntimeError, OSError, TimeoutError):  # it is ending anyway
                await asyncio.wait_for(self.ask({"op": "close"}), timeout=60)
        self.writer.close()
        await asyncio.to_thread(self.process.join, 10)
        if self.process.is_alive():
            self.process.kill()
            await asyncio.to_thread(self.process.join)


class ClientPool:
    """`users`' sockets to the system `dialer` reaches, each subscribed to its user's
    notifications, over ceil(len(users) / per_child) child processes."""

    def __init__(
        self, dialer: Dialer, users: Sequence[str], *, per_child: int = PER_CHILD, wave: int = WAVE
    ) -> None:
        self.dialer = dialer
        self.users = list(users)
        self.per_child = per_child
        self.wave = wave
        self._children: list[_Child] = []
        self._shares: list[tuple[list[str], int]] = []  # each child's users, and how many are open

    def __len__(self) -> int:
        """The sockets connected."""
        return sum(connected for _, connected in self._shares)

    async def __aenter__(self) -> Self:
        if not self.users:
            raise ValueError("a pool needs at least one user")
        spec = dialer_to_json(self.dialer)
        size = math.ceil(len(self.users) / math.ceil(len(self.users) / self.per_child))
        try:
            for first in range(0, len(self.users), size):
                child = await _Child.start()
                self._children.append(child)
                share = self.users[first : first + size]
                self._shares.append((share, 0))
                await child.send({"dialer": spec, "users": share})
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stop()

    @property
    def children(self) -> int:
        return len(self._children)

    async def connect(self, count: int | None = None) -> None:
        """Opens and subscribes `count` more sockets (all that are left, by default), shared
        between the children, which dial at the same time, each in waves."""
        left = [len(users) - connected for users, connected in self._shares]
        count = sum(left) if count is None else min(count, sum(left))
        asked, remaining = [0] * len(left), count
        while remaining:  # evenly over the children that have users left
            open_ = [i for i, n in enumerate(left) if asked[i] < n]
            each = max(1, remaining // len(open_))
            for i in open_:
                share = min(each, left[i] - asked[i], remaining)
                asked[i] += share
                remaining -= share
        answers = await asyncio.gather(
            *(
                child.ask({"op": "connect", "count": n, "wave": self.wave})
                for child, n in zip(self._children, asked, strict=True)
            )
        )
        for i, answer in enumerate(answers):
            users, connected = self._shares[i]
            self._shares[i] = (users, connected + answer["connected"])
        if (connected := sum(a["connected"] for a in answers)) != count:
            raise RuntimeError(f"{connected} of {count} sockets connected")

    async def next_frames(self, title: str, publish: Callable[[], Awaitable[None]]) -> Frames:
        """Every socket waits for its next notification, then `publish` runs (timed from its
        start); returns once every socket has one or the children's timeout passed."""
        await self._all({"op": "next", "title": title})
        began = time.perf_counter()
        await publish()
        answers = await asyncio.gather(*(c.receive() for c in self._children))
        return Frames(
            began=began,
            arrivals=[at for a in answers for at in a["arrivals"]],
            wrong=sum(a["wrong"] for a in answers),
            missing=sum(a["missing"] for a in answers),
        )

    async def _all(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(c.ask(message) for c in self._children)))

    async def _stop(self) -> None:
        children, self._children = self._children, []
        await asyncio.gather(*(child.stop() for child in children))


# The child process.


async def _arrival(dialer: Dialer, socket: ClientConnection) -> tuple[str, float]:
    title = await dialer.next_title(socket)
    return title, time.perf_counter()


class _Sockets:
    def __init__(self, dialer: Dialer, users: list[str]) -> None:
        self.dialer = dialer
        self.users = users
        self.sockets: list[ClientConnection] = []

    async def connect(self, count: int, wave: int) -> dict[str, Any]:
        """Opens the next `count` users' sockets."""
        start = len(self.sockets)
        for first in range(start, min(len(self.users), start + count), wave):
            batch = self.users[first : min(first + wave, start + count)]
            self.sockets += await asyncio.gather(*(self.dialer.connect(u) for u in batch))
        return {"connected": len(self.sockets) - start}

    async def next(self, title: str, out: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        # This process's own full collections would stall the frames being timed: they run
        # between rounds (see bench.processes.collections_between_rounds).
        gc.collect()
        gc.disable()
        try:
            waiting = [asyncio.create_task(_arrival(self.dialer, s)) for s in self.sockets]
            await asyncio.sleep(0)  # every task is reading before the publish may start
            out({"armed": len(waiting)})
            done, pending = await asyncio.wait(waiting, timeout=ROUND_TIMEOUT)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            gc.enable()
        got = [task.result() for task in done]
        return {
            "arrivals": [at for t, at in got if t == title],
            "wrong": sum(1 for t, _ in got if t != title),
            "missing": len(pending),
        }

    async def close(self) -> dict[str, Any]:
        await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)
        return {"closed": len(self.sockets)}


async def _child(channel: socket.socket) -> None:
    reader, writer = await asyncio.open_connection(sock=channel, limit=LINE_LIMIT)

    def out(message: dict[str, Any]) -> None:
        writer.write(json.dumps(message).encode() + b"\n")

    setup = json.loads(await reader.readline())
    held = _Sockets(dialer_from_json(setup["dialer"]), setup["users"])
    try:
        while line := await reader.readline():
            command = json.loads(line)
            if command["op"] == "connect":
                out(await held.connect(command["count"], command["wave"]))
            elif command["op"] == "next":
                out(await held.next(command["title"], out))
            elif command["op"] == "close":
                out(await held.close())
                break
            await writer.drain()
    except Exception as error:  # the parent raises it
        out({"error": f"{type(error).__name__}: {error}"})
    finally:
        await held.close()
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()


def _run_child(channel: socket.socket) -> None:
    uvloop.run(_child(channel))  # the clients' own loop should cost as little as the servers'


# Children are forked from a server process that has imported this module once: started
# afresh, each would spend seconds importing what bench.servers imports.
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload([__name__])
