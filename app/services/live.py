"""Live views of one user's inbox, as the subscriptions stream them.

Each subscribes before it reads the current state, so nothing falls between the two, and it
re-reads the state whenever the hub signals that events may have been missed."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.errors import Unauthenticated
from app.models import Channel, Delivery
from app.pubsub import (
    ALL,
    Decoder,
    DeliveryPayload,
    InboxEventKind,
    InboxMessage,
    Signal,
    Subscription,
    decode_deliveries,
    decode_inbox,
    deliveries_topic,
    hub,
    inbox_topic,
)
from app.services import inbox


@contextlib.asynccontextmanager
async def _watch(
    topic: str, key: str, decode: Decoder, expires_at: datetime | None
) -> AsyncIterator[Subscription]:
    async with hub().subscription(topic, key, decode=decode) as subscription:
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


async def _next(subscription: Subscription) -> Any:
    """The next change, or None when the state must be re-read."""
    item = await subscription.get()
    if item is Signal.EXPIRED:
        raise Unauthenticated("User token has expired; reconnect with a new one")
    if item is Signal.RESYNC:
        return None
    return item


def _inbox(
    tenant_id: UUID, user_id: UUID, expires_at: datetime | None
) -> contextlib.AbstractAsyncContextManager[Subscription]:
    return _watch(inbox_topic(tenant_id), str(user_id), decode_inbox, expires_at)


async def _sync(user_id: UUID) -> InboxMessage:
    unread = await inbox.unread_count(user_id=user_id)
    return InboxMessage(kind=InboxEventKind.SYNC, unread_count=unread)


async def inbox_events(
    *, tenant_id: UUID, user_id: UUID, expires_at: datetime | None
) -> AsyncIterator[InboxMessage]:
    """SYNC first (and after any gap), then every change to the inbox."""
    async with _inbox(tenant_id, user_id, expires_at) as subscription:
        yield await _sync(user_id)
        while True:
            message = await _next(subscription)
            yield message if message is not None else await _sync(user_id)


async def unread_counts(
    *, tenant_id: UUID, user_id: UUID, category: str | None, expires_at: datetime | None
) -> AsyncIterator[int]:
    """The current unread count, then each new value (repeated after any gap)."""
    async with _inbox(tenant_id, user_id, expires_at) as subscription:
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


async def delivery_events(
    *,
    tenant_id: UUID,
    recipient_id: UUID | None,
    notification_id: UUID | None,
    channel: Channel | None,
    expires_at: datetime | None,
) -> AsyncIterator[DeliveryPayload]:
    """Each change of a delivery: one recipient's, or (recipient_id None) the tenant's. With a
    notification named, its deliveries' current states come first (and after any gap)."""

    def wanted(d: DeliveryPayload) -> bool:
        return (notification_id is None or d.notification_id == str(notification_id)) and (
            channel is None or d.channel == channel.value
        )

    async def current() -> list[DeliveryPayload]:
        if notification_id is None:
            return []
        rows = Delivery.filter(tenant_id=tenant_id, notification_id=notification_id)
        if recipient_id is not None:
            rows = rows.filter(recipient_id=recipient_id)
        return [d for d in map(DeliveryPayload.of, await rows.order_by("created_at")) if wanted(d)]

    key = ALL if recipient_id is None else str(recipient_id)
    topic = deliveries_topic(tenant_id)
    async with _watch(topic, key, decode_deliveries, expires_at) as subscription:
        for payload in await current():
            yield payload
        while True:
            item = await _next(subscription)
            for payload in await current() if item is None else [item]:
                if wanted(payload):
                    yield payload
