"""Live views of one user's inbox, as the subscriptions stream them.

Each subscribes before it reads the current state, so nothing falls between the two, and it
re-reads the state whenever the hub signals that events may have been missed."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

from app.errors import Unauthenticated
from app.pubsub import (
    InboxEventKind,
    InboxMessage,
    Signal,
    Subscription,
    decode_inbox,
    hub,
    inbox_topic,
)
from app.services import inbox


@contextlib.asynccontextmanager
async def _watch(
    tenant_id: UUID, user_id: UUID, expires_at: datetime | None
) -> AsyncIterator[Subscription]:
    topic = inbox_topic(tenant_id)
    async with hub().subscription(topic, str(user_id), decode=decode_inbox) as subscription:
        expiry = None
        if expires_at is not None:
            delay = max(0.0, (expires_at - datetime.now(UTC)).total_seconds())
            expiry = asyncio.get_running_loop().call_later(
                delay, subscription.signal, Signal.EXPIRED
            )
        try:
            yield subscription
        finally:
            if expiry is not None:
                expiry.cancel()


async def _next(subscription: Subscription) -> InboxMessage | None:
    """The next change, or None when the state must be re-read."""
    item = await subscription.get()
    if item is Signal.EXPIRED:
        raise Unauthenticated("User token has expired; reconnect with a new one")
    if item is Signal.RESYNC:
        return None
    assert isinstance(item, InboxMessage)
    return item


async def _sync(user_id: UUID) -> InboxMessage:
    unread = await inbox.unread_count(user_id=user_id)
    return InboxMessage(kind=InboxEventKind.SYNC, unread_count=unread)


async def inbox_events(
    *, tenant_id: UUID, user_id: UUID, expires_at: datetime | None
) -> AsyncIterator[InboxMessage]:
    """SYNC first (and after any gap), then every change to the inbox."""
    async with _watch(tenant_id, user_id, expires_at) as subscription:
        yield await _sync(user_id)
        while True:
            message = await _next(subscription)
            yield message if message is not None else await _sync(user_id)


async def unread_counts(
    *, tenant_id: UUID, user_id: UUID, category: str | None, expires_at: datetime | None
) -> AsyncIterator[int]:
    """The current unread count, then each new value (repeated after any gap)."""
    async with _watch(tenant_id, user_id, expires_at) as subscription:
        last = await inbox.unread_count(user_id=user_id, category=category)
        yield last
        while True:
            message = await _next(subscription)
            if message is None:
                last = await inbox.unread_count(user_id=user_id, category=category)
                yield last
                continue
            if not message.touches(category):
                continue
            if category is None:
                value = message.unread_count
            else:
                value = await inbox.unread_count(user_id=user_id, category=category)
            if value != last:
                last = value
                yield value
