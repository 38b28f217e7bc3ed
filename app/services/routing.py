"""Which channels each recipient of a publish gets, and which emails the rate limit holds back.

Preferences decide first (catalogue < tenant < personal); a request may narrow them
(`requested`) or override them (`forced`); only channels the tenant has enabled deliver."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from app.models import (
    CHANNEL_FIELDS,
    Channel,
    Delivery,
    DeliveryStatus,
    EventCategory,
    TenantPreference,
    UserPreference,
)
from app.services import catalog, channels
from app.services.preferences import CategoryPreference, merge

LOOKUP_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Route:
    channels: set[Channel]
    rate_limited: set[Channel] = field(default_factory=set)  # recorded SUPPRESSED, not sent


async def plan(
    *,
    tenant_id: UUID,
    user_ids: list[UUID],
    category: str,
    now: datetime,
    requested: set[Channel] | None = None,
    forced: set[Channel] | None = None,
) -> dict[UUID, Route]:
    known = await catalog.get(tenant_id=tenant_id, key=category)
    enabled = await channels.enabled_channels(tenant_id=tenant_id)
    wanted = await _preferred(tenant_id, user_ids, known)
    limited = await _recently_emailed(user_ids, known, now)
    routes = {}
    for user_id in user_ids:
        chosen = wanted[user_id]
        if requested is not None:
            chosen &= requested
        chosen |= forced or set()
        chosen &= enabled
        held = {Channel.EMAIL} & chosen if user_id in limited else set()
        routes[user_id] = Route(channels=chosen, rate_limited=held)
    return routes


async def _preferred(
    tenant_id: UUID, user_ids: list[UUID], category: EventCategory | None
) -> dict[UUID, set[Channel]]:
    if category is None:  # a free category: the inbox only
        return {user_id: {Channel.IN_APP} for user_id in user_ids}
    tenant = await TenantPreference.get_or_none(tenant_id=tenant_id, category=category.key)
    personal: dict[UUID, UserPreference] = {}
    for start in range(0, len(user_ids), LOOKUP_BATCH):
        batch = user_ids[start : start + LOOKUP_BATCH]
        for row in await UserPreference.filter(user_id__in=batch, category=category.key):
            personal[row.user_id] = row

    def channels_of(merged: CategoryPreference) -> set[Channel]:
        return {c for c in CHANNEL_FIELDS if merged.values[c]}

    everyone = channels_of(merge(category, tenant, None))  # for those with no choice of their own
    return {
        user_id: channels_of(merge(category, tenant, personal[user_id]))
        if user_id in personal
        else set(everyone)
        for user_id in user_ids
    }


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
