"""The hub every process shares: keyed, bounded local subscriptions over one backend.

A channel carries batches; its topic's codec turns one into (key, message) pairs, decoded once
per process and only for the keys subscribed here, and each message goes to the mailboxes of
that key. When the backend may have lost messages, every mailbox is told to resync."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any, TypeVar
from uuid import UUID

from app.live.backends import Head, backend_for
from app.live.mailbox import Mailbox
from app.live.messages import Signal
from app.live.topics import Topic
from app.metrics import LIVE_EVENTS
from app.settings import Settings

logger = logging.getLogger("belfry.live")

T = TypeVar("T")


class _Subscribed:
    """What this process holds for one channel: its topic and each key's mailboxes."""

    __slots__ = ("by_key", "fanned_out", "ready", "topic")

    def __init__(self, topic: Topic[Any], ready: asyncio.Future[None]) -> None:
        self.topic = topic
        self.by_key: dict[str, set[Mailbox[Any]]] = {}
        self.fanned_out = LIVE_EVENTS.labels(topic.kind)
        # The backend's subscription: a task of its own, which a subscriber that leaves while
        # it is made does not cancel for the others.
        self.ready = ready


class Hub:
    def __init__(self, url: str, *, queue_limit: int = 100, keep_seconds: float = 3600) -> None:
        self._backend = backend_for(url, on_reconnect=self.resync_all)
        self.queue_limit = queue_limit
        self.keep_seconds = keep_seconds  # how long kept topics' messages can be read again
        self._unkept: set[str] = set()  # channels a publish failed on, to forget_kept
        self._forgetting: asyncio.Future[None] | None = None
        self._channels: dict[str, _Subscribed] = {}
        self._listener: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self._backend.connect()
        self._listener = asyncio.create_task(self._listen(), name="belfry-hub")

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._backend.disconnect()

    async def _listen(self) -> None:
        while True:
            event = await self._backend.next_published()
            subscribed = self._channels.get(event.channel)
            if subscribed is None:
                continue
            by_key = subscribed.by_key
            try:
                messages = subscribed.topic.decode(event.message, by_key)
            except (ValueError, KeyError, TypeError):
                logger.exception("undecodable message on %s dropped", event.channel)
                continue
            handed = 0
            for key, message in messages:
                for mailbox in by_key.get(key, ()):
                    mailbox.offer(message)
                    handed += 1
            if handed:  # one update per message, however many subscribers it reached
                subscribed.fanned_out.inc(handed)

    def resync_all(self) -> None:
        if self._unkept:  # the backend is back: forget now rather than at the next publish
            self._forgetting = asyncio.ensure_future(self._forget_later())
        for subscribed in self._channels.values():
            for mailboxes in subscribed.by_key.values():
                for mailbox in mailboxes:
                    mailbox.signal(Signal.RESYNC)

    async def publish_many(
        self, messages: Iterable[tuple[str, str]], *, kept: Iterable[tuple[str, str]] = ()
    ) -> None:
        """`kept` are messages of kept topics' channels, kept and then published first. When
        they fail, their channels' positions are forgotten (at the next publish that gets
        through), so that no subscriber resumes past what it never got."""
        batch, to_keep = list(messages), list(kept)
        if not (batch or to_keep):
            return
        try:
            await self._forget_unkept()
            await self._backend.publish_many(batch, kept=to_keep, keep_seconds=self.keep_seconds)
        except BaseException:
            self._unkept.update(channel for channel, _ in to_keep)
            raise

    async def _forget_unkept(self) -> None:
        if self._unkept:
            channels = sorted(self._unkept)
            await self._backend.forget_kept(channels)
            self._unkept.difference_update(channels)

    async def _forget_later(self) -> None:
        try:
            await self._forget_unkept()
        except Exception as error:  # tried again before the next publish
            logger.warning("kept positions not forgotten yet: %s", error)

    async def kept_since(
        self, topic: Topic[T], key: str, after: str, *, tenant_id: UUID | str | None = None
    ) -> list[T] | None:
        """The messages for `key` kept on the topic's channel after the position `after`,
        oldest first; None when they cannot all be given."""
        entries = await self._backend.kept_since(topic.channel(tenant_id), after, self.keep_seconds)
        if entries is None:
            return None
        wanted = {key}
        return [
            message
            for kept_id, raw in entries
            for found, message in topic.decode(f"{kept_id} {raw}", wanted)
            if found == key
        ]

    async def kept_head(self, topic: Topic[T], *, tenant_id: UUID | str | None = None) -> Head:
        return await self._backend.kept_head(topic.channel(tenant_id))

    @contextlib.asynccontextmanager
    async def subscription(
        self, topic: Topic[T], key: str, *, tenant_id: UUID | str | None = None
    ) -> AsyncIterator[Mailbox[T]]:
        """A mailbox for the messages of `topic` (the tenant's channel, for a topic with one
        per tenant) under `key`, for as long as the block runs."""
        channel = topic.channel(tenant_id)
        subscribed = self._channels.get(channel)
        if subscribed is None:
            made = asyncio.ensure_future(self._backend.subscribe(channel))
            subscribed = self._channels[channel] = _Subscribed(topic, made)
        mailbox: Mailbox[T] = Mailbox(self.queue_limit)
        subscribed.by_key.setdefault(key, set()).add(mailbox)
        try:
            # From then on, what is published reaches the mailbox.
            await asyncio.shield(subscribed.ready)
            yield mailbox
        finally:
            mailboxes = subscribed.by_key[key]
            mailboxes.discard(mailbox)
            if not mailboxes:
                del subscribed.by_key[key]
            if not subscribed.by_key and self._channels.get(channel) is subscribed:
                del self._channels[channel]
                with contextlib.suppress(Exception):  # a dead connection forgets it anyway
                    await subscribed.ready  # made before it is unmade
                    await self._backend.unsubscribe(channel)

    def subscriber_count(self) -> int:
        return sum(len(m) for s in self._channels.values() for m in s.by_key.values())


_hub: Hub | None = None


def hub() -> Hub:
    if _hub is None:
        raise RuntimeError("The broadcast hub is not connected; start it with connect_hub()")
    return _hub


def connected_hub() -> Hub | None:
    return _hub


@contextlib.asynccontextmanager
async def connect_hub(settings: Settings) -> AsyncIterator[Hub]:
    """This process's hub, connected while the block runs."""
    global _hub
    instance = Hub(
        settings.broadcast_url,
        queue_limit=settings.subscriber_queue_limit,
        keep_seconds=settings.live_replay_seconds,
    )
    await instance.connect()
    _hub = instance
    try:
        yield instance
    finally:
        _hub = None
        await instance.disconnect()
