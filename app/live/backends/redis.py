"""Redis pub/sub: one connection that is rebuilt, with every channel, whenever it breaks.

broadcaster's own Redis backend stalls with redis-py 8 and dies silently when Redis restarts:
this one reconnects with backoff, re-subscribes every channel and then has every subscriber
resync, since whatever was published meanwhile is gone."""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from broadcaster import Event
from redis import asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from app.live.backends import Backend

logger = logging.getLogger("belfry.live")

PUBLISH_BATCH = 1000
IDLE_PING = 15.0  # seconds


class RedisBackend(Backend):
    """One PubSub connection that is rebuilt, with every channel, whenever it breaks."""

    def __init__(self, url: str, *, on_reconnect: Callable[[], None]) -> None:
        self._url = url
        self._on_reconnect = on_reconnect
        self._publisher = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
        self._channels: set[str] = set()
        self._pubsub: Any = None
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def connect(self) -> None:
        self._task = asyncio.create_task(self._run(), name="belfry-redis-pubsub")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=2)
        if not self._connected.is_set():
            logger.warning(
                "Redis %s is not reachable yet; retrying in the background", self._safe_url
            )

    async def disconnect(self) -> None:
        self._stopping = True
        # Cancelled again until it ends: a cancellation that lands inside redis-py while it
        # (re)connects can be turned into a connection error, which the loop would survive.
        while self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task], timeout=1)
        await self._publisher.aclose()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        await self._send("subscribe", channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        await self._send("unsubscribe", channel)

    async def _send(self, command: str, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # the next connection subscribes to everything in self._channels
        try:
            await getattr(pubsub, command)(channel)
        except (RedisError, OSError) as error:
            logger.warning(
                "Redis %s %s failed (%s); the reconnect will redo it", command, channel, error
            )

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        """One round trip per batch rather than one per recipient."""
        for start in range(0, len(messages), PUBLISH_BATCH):
            async with self._publisher.pipeline(transaction=False) as pipe:
                for channel, message in messages[start : start + PUBLISH_BATCH]:
                    pipe.publish(channel, message)
                await pipe.execute()

    async def next_published(self) -> Event:
        return await self._events.get()

    @property
    def _safe_url(self) -> str:
        parsed = urlparse(self._url)
        return f"{parsed.scheme}://{parsed.hostname}:{parsed.port or 6379}"

    async def _run(self) -> None:
        delay = 0.1
        ever_connected = False
        while not self._stopping:
            client = redis.Redis.from_url(
                self._url,
                socket_connect_timeout=2,
                socket_keepalive=True,
                retry=Retry(NoBackoff(), 0),  # we reconnect ourselves, and then resync
            )
            try:
                pubsub = client.pubsub()
                # A standing channel keeps the connection readable with no subscribers.
                await pubsub.subscribe("belfry:control", *self._channels)
                self._pubsub = pubsub
                self._connected.set()
                if ever_connected:
                    logger.info("Redis %s is back; re-subscribed", self._safe_url)
                # Anything published while we were not listening is lost to our subscribers.
                self._on_reconnect()
                ever_connected, delay = True, 0.1
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if self._connected.is_set():
                    logger.warning(
                        "Redis %s connection lost (%s); reconnecting", self._safe_url, error
                    )
            finally:
                self._pubsub = None
                self._connected.clear()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 5.0)

    async def _read(self, pubsub: Any) -> None:
        """Reads until the connection fails. A half-open TCP connection never fails by itself,
        so a watchdog PINGs when idle and gives up on a connection silent for too long."""
        loop = asyncio.get_running_loop()
        last_seen = loop.time()

        async def receive() -> None:
            nonlocal last_seen
            while True:
                message = await pubsub.get_message(timeout=None)  # blocks; no timer per message
                last_seen = loop.time()
                if message is not None and message["type"] == "message":
                    self._events.put_nowait(
                        Event(channel=message["channel"].decode(), message=message["data"].decode())
                    )

        async def watch() -> None:
            while True:
                await asyncio.sleep(IDLE_PING)
                if loop.time() - last_seen > 2 * IDLE_PING:
                    raise RedisConnectionError("no traffic, not even an answer to PING")
                await pubsub.ping()

        tasks = [asyncio.ensure_future(receive()), asyncio.ensure_future(watch())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
