"""What each subscription streams: the live views of app.live.streams, each given the state it
starts from and re-reads after a gap, read here from the database."""

from collections.abc import AsyncIterator
from functools import partial
from uuid import UUID

from app.live import streams
from app.live.messages import DeliveryPayload, InboxMessage
from app.live.streams import Badge
from app.models import Channel, Delivery
from app.services import inbox

COUNTS = {Badge.UNREAD: inbox.unread_count, Badge.UNSEEN: inbox.unseen_count}


def inbox_events(
    *, tenant_id: UUID, user_id: UUID, after: str | None = None
) -> AsyncIterator[InboxMessage]:
    """The viewer's inbox: a SYNC with the badges' counts (or the events after `after`), then
    every change."""
    return streams.inbox_events(
        tenant_id=tenant_id,
        user_id=user_id,
        badges=partial(inbox.stats_for, user_id=user_id),
        after=after,
    )


def badge_counts(
    *, tenant_id: UUID, user_id: UUID, badge: Badge, category: str | None
) -> AsyncIterator[int]:
    """One of the viewer's badges, in one category or all: its count now, then each change."""
    return streams.badge_counts(
        tenant_id=tenant_id,
        user_id=user_id,
        badge=badge,
        category=category,
        now=partial(COUNTS[badge], user_id=user_id, category=category),
    )


def delivery_events(
    *,
    tenant_id: UUID,
    recipient_id: UUID | None,
    notification_id: UUID | None,
    channel: Channel | None,
) -> AsyncIterator[DeliveryPayload]:
    """Each change of a delivery, one recipient's or (recipient_id None) the tenant's; with a
    notification named, its deliveries' states first."""
    current = None
    if notification_id is not None:
        current = partial(
            _delivery_states,
            tenant_id=tenant_id,
            notification_id=notification_id,
            recipient_id=recipient_id,
        )
    return streams.delivery_events(
        tenant_id=tenant_id,
        recipient_id=recipient_id,
        notification_id=notification_id,
        channel=channel,
        current=current,
    )


async def _delivery_states(
    *, tenant_id: UUID, notification_id: UUID, recipient_id: UUID | None
) -> list[DeliveryPayload]:
    rows = Delivery.filter(tenant_id=tenant_id, notification_id=notification_id)
    if recipient_id is not None:
        rows = rows.filter(recipient_id=recipient_id)
    return [DeliveryPayload.of(d) for d in await rows.order_by("created_at")]
