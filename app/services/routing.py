"""Which channels each recipient of a publish gets, and which emails the rate limit holds back.

Preferences decide first (catalogue < tenant < personal); a request may narrow them
(`requested`) or override them (`forced`); only channels the tenant has enabled deliver."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from app.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EventCategory,
)
from app.services import channels, preferences

LOOKUP_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Route:
    """Shared by every recipient with the same answer, hence immutable throughout."""

    channels: frozenset[Channel]
    rate_limited: frozenset[Channel] = frozenset()  # recorded SUPPRESSED, not sent


async def plan(
    *,
    tenant_id: UUID,
    user_ids: list[UUID],
    category: EventCategory | None,
    now: datetime,
    requested: set[Channel] | None = None,
    forced: set[Channel] | None = None,
) -> dict[UUID, Route]:
    """`category` as the catalogue has it; None for a free category."""
    enabled = await channels.enabled_channels(tenant_id=tenant_id)
    wanted = await preferences.channels_for_many(
        tenant_id=tenant_id, user_ids=user_ids, category=category
    )
    limited = await _recently_emailed(user_ids, category, now)
    routes: dict[UUID, Route] = {}
    # Recipients with the same preferences and rate limit share one Route.
    shared: dict[tuple[frozenset[Channel], bool], Route] = {}
    for user_id in user_ids:
        key = (wanted[user_id], user_id in limited)
        if (route := shared.get(key)) is None:
            chosen = key[0] if requested is None else key[0] & requested
            chosen = (chosen | (forced or set())) & enabled
            held = chosen & {Channel.EMAIL} if key[1] else frozenset()
            route = shared[key] = Route(channels=chosen, rate_limited=held)
        routes[user_id] = route
    return routes


async def _recently_emailed(
    user_ids: list[UUID], category: EventCategory | None, now: datetime
) -> set[UUID]:
    """Recipients who already got (or are about to get) an email of this category inside its
    rate-limit window."""
    if category is None or not category.email_rate_limit_seconds:
        return set()
    since = now - timedelta(seconds=category.email_rate_limit_seconds)
    found: set[UUID] = set()
    for start in range(0, len(user_ids), LOOKUP_BATCH):
        rows = await Delivery.filter(
            recipient_id__in=user_ids[start : start + LOOKUP_BATCH],
            channel=Channel.EMAIL,
            category=category.key,
            status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT],
            created_at__gte=since,
        ).values_list("recipient_id", flat=True)
        found.update(UUID(str(r)) for r in rows)
    return found
