"""What one subscriber reads: a bounded mailbox of messages and signals."""

import asyncio
from typing import Generic, TypeVar

from app.live.messages import Signal

T = TypeVar("T")


class Mailbox(Generic[T]):
    """Messages for one subscriber, or a Signal. Holds at most `limit` items: a reader that
    falls behind has its backlog replaced by one RESYNC, so it costs a fixed amount of memory
    and catches up from the database.

    A list and one waiting future rather than an asyncio.Queue: every publish wakes each of
    its subscribers, and Queue.get looks up the running loop every time, which costs a system
    call (getpid) on Linux. A list, not a deque: a mailbox is nearly always empty, and an
    empty deque holds a block of 64 slots (about 0.7 KiB per subscriber); taking from the front
    of a list of at most `limit` items costs little."""

    __slots__ = ("_items", "_limit", "_loop", "_waiter", "overflows")  # one per subscriber

    def __init__(self, limit: int) -> None:
        self._items: list[T | Signal] = []
        self._limit = limit
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self.overflows = 0

    def offer(self, item: T) -> None:
        if len(self._items) >= self._limit:
            self.overflows += 1
            self.signal(Signal.RESYNC)
        else:
            self._put(item)

    def signal(self, signal: Signal) -> None:
        """Always delivered. Whatever is still queued is dropped: a resync re-reads the state
        those events would have changed."""
        self._items.clear()
        self._put(signal)

    def _put(self, item: T | Signal) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> T | Signal:
        while not self._items:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def pending(self) -> int:
        return len(self._items)
