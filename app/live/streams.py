"""The live views the subscriptions stream: one user's inbox and badge counts, and
deliveries' states.

Each subscribes before it reads the current state, so nothing falls between the two, and it
re-reads the state whenever the hub signals that events may have been missed."""

import contextlib
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from app.live.hub import hub
from app.live.mailbox import Mailbox
from app.live.messages import ALL, DeliveryPayload, InboxEventKind, InboxMessage, Signal
from app.live.topics import DELIVERIES, INBOX
from app.metrics import SUBSCRIPTIONS
from app.models import Channel, Delivery
from app.services import inbox

T = TypeVar("T")


async def _next(mailbox: Mailbox[T]) -> T | None:
    """The next change, or None when the state must be re-read."""
    item = await mailbox.get()
    return None if isinstance(item, Signal) else item


def _inbox(
    tenant_id: UUID, user_id: UUID
) -> contextlib.AbstractAsyncContextManager[Mailbox[InboxMessage]]:
    return hub().subscription(INBOX, str(user_id), tenant_id=tenant_id)


async def _sync(user_id: UUID) -> InboxMessage:
    badges = await inbox.stats_for(user_id=user_id)
    return InboxMessage(
        kind=InboxEventKind.SYNC, unread_count=badges.unread, unseen_count=badges.unseen
    )


async def inbox_events(*, tenant_id: UUID, user_id: UUID) -> AsyncIterator[InboxMessage]:
    """SYNC first (and after any gap), then every change to the inbox."""
    with SUBSCRIPTIONS.labels("inbox").track_inprogress():
        async with _inbox(tenant_id, user_id) as subscription:
            yield await _sync(user_id)
            while True:
                message = await _next(subscription)
                yield message if message is not None else await _sync(user_id)


class Badge(StrEnum):
    UNREAD = "unread"
    UNSEEN = "unseen"


async def badge_counts(
    *, tenant_id: UUID, user_id: UUID, badge: Badge, category: str | None
) -> AsyncIterator[int]:
    """The badge's current count, then each new value (repeated after any gap)."""

    async def now() -> int:
        counts = await inbox.stats_for(user_id=user_id, categories=[category] if category else None)
        return int(getattr(counts, badge.value))

    with SUBSCRIPTIONS.labels(f"{badge.value}Count").track_inprogress():
        async with _inbox(tenant_id, user_id) as subscription:
            last = await now()
            yield last
            while True:
                message = await _next(subscription)
                if message is None:
                    last = await now()
                    yield last
                    continue
                if not message.touches(category):
                    continue
                if category is not None:
                    value = await now()
                elif badge is Badge.UNREAD:
                    value = message.unread_count
                else:
                    value = message.unseen_count
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
    with SUBSCRIPTIONS.labels("deliveryStatus").track_inprogress():
        async with hub().subscription(DELIVERIES, key, tenant_id=tenant_id) as subscription:
            for payload in await current():
                yield payload
            while True:
                item = await _next(subscription)
                for payload in await current() if item is None else [item]:
                    if wanted(payload):
                        yield payload
