"""The backend of one process: what is published here is received here."""

import asyncio
from typing import Any

from broadcaster import Event

from app.live.backends import Backend


class MemoryBackend(Backend):
    def __init__(self) -> None:
        self._subscribed: set[str] = set()
        self._published: asyncio.Queue[Event] = asyncio.Queue()

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    async def publish(self, channel: str, message: Any) -> None:
        if channel in self._subscribed:
            self._published.put_nowait(Event(channel=channel, message=message))

    async def next_published(self) -> Event:
        while True:
            event = await self._published.get()
            if event.channel in self._subscribed:  # still, when it is read
                return event
