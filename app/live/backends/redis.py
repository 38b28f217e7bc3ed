"""Redis pub/sub: one connection that is rebuilt, with every channel, whenever it breaks.

broadcaster's own Redis backend stalls with redis-py 8 and dies silently when Redis restarts:
this one reconnects with backoff, re-subscribes every channel and then has every subscriber
resync (app/live/backends/reconnecting.py)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from redis import asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from app.live.backends import replay
from app.live.backends.reconnecting import ReconnectingBackend

PUBLISH_BATCH = 1000
IDLE_PING = 15.0  # seconds


class RedisBackend(ReconnectingBackend):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"

    def __init__(self, url: str, *, on_reconnect: Callable[[], None]) -> None:
        parsed = urlparse(url)
        name = f"Redis {parsed.scheme}://{parsed.hostname}:{parsed.port or 6379}"
        super().__init__(name, on_reconnect=on_reconnect)
        self._url = url
        self._publisher = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )

    async def disconnect(self) -> None:
        await super().disconnect()
        await self._publisher.aclose()

    async def publish_many(
        self,
        messages: Sequence[tuple[str, str]],
        *,
        kept: Sequence[tuple[str, str]] = (),
        keep_seconds: float = 0,
    ) -> None:
        """One round trip per batch rather than one per recipient."""
        batch = replay.outgoing(messages, kept)
        for start in range(0, len(batch), PUBLISH_BATCH):
            async with self._publisher.pipeline(transaction=False) as pipe:
                replay.queue(pipe, batch[start : start + PUBLISH_BATCH], keep_seconds, "publish")
                await pipe.execute()

    async def forget_kept(self, channels: Sequence[str]) -> None:
        await self._publisher.delete(*map(replay.epoch_key, channels))

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
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
            yield pubsub
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

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
                self._received(message, "message")

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
