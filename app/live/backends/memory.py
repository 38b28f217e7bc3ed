"""The backend of one process: what is published here is received here, and kept here."""

import asyncio
import uuid
from collections import deque
from collections.abc import Sequence

from broadcaster import Event

from app import clock
from app.live.backends import Backend, Head, id_key, position_before, replayable


class MemoryBackend(Backend):
    def __init__(self) -> None:
        self._subscribed: set[str] = set()
        self._published: asyncio.Queue[Event] = asyncio.Queue()
        self._kept: dict[str, deque[tuple[str, str]]] = {}
        self._last_id = (0, 0)
        self._epoch = uuid.uuid4().hex  # what is kept lives as long as this process

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    async def publish_many(
        self,
        messages: Sequence[tuple[str, str]],
        *,
        kept: Sequence[tuple[str, str]] = (),
        keep_seconds: float = 0,
    ) -> None:
        for channel, message in kept:
            kept_id = self._keep(channel, message, keep_seconds)
            self._deliver(channel, f"{kept_id} {message}")
        for channel, message in messages:
            self._deliver(channel, message)

    def _deliver(self, channel: str, message: str) -> None:
        if channel in self._subscribed:
            self._published.put_nowait(Event(channel=channel, message=message))

    def _keep(self, channel: str, message: str, keep_seconds: float) -> str:
        """As Redis's XADD with MINID: ids by the millisecond, then a sequence number."""
        ms = clock.real_ms()
        self._last_id = (
            (ms, 0) if ms > self._last_id[0] else (self._last_id[0], self._last_id[1] + 1)
        )
        kept_id = f"{self._last_id[0]}-{self._last_id[1]}"
        entries = self._kept.setdefault(channel, deque())
        entries.append((kept_id, message))
        oldest = ms - int(keep_seconds * 1000)
        while entries and id_key(entries[0][0])[0] < oldest:
            entries.popleft()
        return kept_id

    async def next_published(self) -> Event:
        while True:
            event = await self._published.get()
            if event.channel in self._subscribed:  # still, when it is read
                return event

    async def kept_since(
        self, channel: str, after: str, keep_seconds: float
    ) -> list[tuple[str, str]] | None:
        start = id_key(after)
        found = [entry for entry in self._kept.get(channel, ()) if id_key(entry[0]) > start]
        return replayable(after, found, clock.real_ms(), keep_seconds)

    async def forget_kept(self, channels: Sequence[str]) -> None:
        pass  # what is published here is always kept

    async def kept_head(self, channel: str) -> Head:
        entries = self._kept.get(channel)
        if entries:
            return Head(self._epoch, entries[-1][0])
        return Head(self._epoch, position_before(clock.real_ms()))
