"""What the Redis and Redis Cluster backends share: a subscriber side that is rebuilt, with
every channel, whenever it breaks, after which every subscriber is told to resync, since
whatever was published meanwhile is gone."""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar

from broadcaster import Event
from redis.exceptions import RedisError

from app.live.backends import Backend, Head, replay

logger = logging.getLogger("belfry.live")

CONFIRM_TIMEOUT = 2.0  # seconds a subscription waits for Redis to confirm it


class ReconnectingBackend(Backend):
    SUBSCRIBE: ClassVar[str]
    UNSUBSCRIBE: ClassVar[str]
    ERRORS: ClassVar[tuple[type[Exception], ...]] = (RedisError, OSError)

    _publisher: Any  # the client that publishes and reads what is kept

    def __init__(self, name: str, *, on_reconnect: Callable[[], None]) -> None:
        self._name = name  # in the log: where it connects, without a password
        self._on_reconnect = on_reconnect
        self._channels: set[str] = set()
        self._confirming: dict[str, asyncio.Future[None]] = {}
        self._pubsub: Any = None
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def _connection(self) -> AbstractAsyncContextManager[Any]:
        """A pub/sub connection subscribed to every channel in self._channels, closed after."""
        raise NotImplementedError

    async def _read(self, pubsub: Any) -> None:
        """Hands on what arrives (see _received) until the connection fails."""
        raise NotImplementedError

    async def connect(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._name} pub/sub")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=2)
        if not self._connected.is_set():
            logger.warning("%s is not reachable yet; retrying in the background", self._name)

    async def disconnect(self) -> None:
        self._stopping = True
        # Cancelled again until it ends: a cancellation that lands inside redis-py while it
        # (re)connects can be turned into a connection error, which the loop would survive.
        while self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task], timeout=1)

    async def subscribe(self, channel: str) -> None:
        """Returns once Redis confirmed it (or gave up waiting: a reconnect subscribes to
        every channel again and has every subscriber resync)."""
        self._channels.add(channel)
        confirmed = self._confirming.setdefault(channel, asyncio.get_running_loop().create_future())
        try:
            if await self._send(self.SUBSCRIBE, channel):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(confirmed), timeout=CONFIRM_TIMEOUT)
        finally:
            if self._confirming.get(channel) is confirmed:
                del self._confirming[channel]

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        await self._send(self.UNSUBSCRIBE, channel)

    async def _send(self, command: str, channel: str) -> bool:
        """Whether it was sent."""
        pubsub = self._pubsub
        if pubsub is None:
            return False  # the next connection subscribes to everything in self._channels
        try:
            await getattr(pubsub, command)(channel)
            return True
        except self.ERRORS as error:
            logger.warning(
                "%s %s %s failed (%s); the reconnect will redo it",
                self._name,
                command,
                channel,
                error,
            )
            return False

    async def kept_since(
        self, channel: str, after: str, keep_seconds: float
    ) -> list[tuple[str, str]] | None:
        return await replay.since(self._publisher, channel, after, keep_seconds)

    async def kept_head(self, channel: str) -> Head:
        return await replay.head(self._publisher, channel)

    async def next_published(self) -> Event:
        return await self._events.get()

    def _received(self, message: dict[str, Any] | None, kind: str) -> None:
        if message is None:
            return
        if message["type"] == kind:
            self._events.put_nowait(
                Event(channel=message["channel"].decode(), message=message["data"].decode())
            )
        elif message["type"] == self.SUBSCRIBE:
            confirmed = self._confirming.get(message["channel"].decode())
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)

    async def _run(self) -> None:
        delay = 0.1
        ever_connected = False
        while not self._stopping:
            reading = False
            try:
                async with self._connection() as pubsub:
                    self._pubsub = pubsub
                    self._connected.set()
                    if ever_connected:
                        logger.info("%s is back; re-subscribed", self._name)
                    self._on_reconnect()  # anything published meanwhile is lost to subscribers
                    ever_connected, delay, reading = True, 0.1, True
                    try:
                        await self._read(pubsub)
                    finally:
                        self._pubsub = None
                        self._connected.clear()
            except asyncio.CancelledError:
                raise
            except self.ERRORS as error:
                if reading:
                    logger.warning("%s connection lost (%s); reconnecting", self._name, error)
                else:
                    logger.debug("%s not reachable yet (%r)", self._name, error)
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 5.0)
