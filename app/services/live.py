"""Live views of one user's inbox, as the subscriptions stream them.

Each subscribes before it reads the current state, so nothing falls between the two, and it
re-reads the state whenever the hub signals that events may have been missed."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from app.metrics import SUBSCRIPTIONS
from app.models import Channel, Delivery
from app.pubsub import (
    ALL,
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


async def _next(subscription: Subscription) -> Any:
    """The next change, or None when the state must be re-read."""
    item = await subscription.get()
    return None if item is Signal.RESYNC else item


def _inbox(tenant_id: UUID, user_id: UUID) -> contextlib.AbstractAsyncContextManager[Subscription]:
    return hub().subscription(inbox_topic(tenant_id), str(user_id), decode=decode_inbox)


async def _sync(user_id: UUID) -> InboxMessage:
    unread = await inbox.unread_count(user_id=user_id)
    return InboxMessage(kind=InboxEventKind.SYNC, unread_count=unread)


async def inbox_events(*, tenant_id: UUID, user_id: UUID) -> AsyncIterator[InboxMessage]:
    """SYNC first (and after any gap), then every change to the inbox."""
    with SUBSCRIPTIONS.labels("inbox").track_inprogress():
        async with _inbox(tenant_id, user_id) as subscription:
            yield await _sync(user_id)
            while True:
                message = await _next(subscription)
                yield message if message is not None else await _sync(user_id)


async def unread_counts(
    *, tenant_id: UUID, user_id: UUID, category: str | None
) -> AsyncIterator[int]:
    """The current unread count, then each new value (repeated after any gap)."""
    with SUBSCRIPTIONS.labels("unreadCount").track_inprogress():
        async with _inbox(tenant_id, user_id) as subscription:
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
    with SUBSCRIPTIONS.labels("deliveryStatus").track_inprogress():
        async with hub().subscription(topic, key, decode=decode_deliveries) as subscription:
            for payload in await current():
                yield payload
            while True:
                item = await _next(subscription)
                for payload in await current() if item is None else [item]:
                    if wanted(payload):
                        yield payload
