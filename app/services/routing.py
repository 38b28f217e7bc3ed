"""Which channels each recipient of a publish gets, and which emails the rate limit holds back.

Preferences decide first (catalogue < tenant < personal); a request may narrow them
(`requested`) or override them (`forced`); only channels the tenant has enabled deliver, but
for forced ones (a test send, checked to be configured). Direct targets (a rule's raw
addresses, a channel's own endpoint) have no preferences; the rest applies to them alike."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from app.models import Channel, Delivery, DeliveryStatus, EventCategory
from app.services import channels, preferences, quiet_hours

LOOKUP_BATCH = 1000
# What still counts against the email rate limit: sent, or about to be.
_COUNTED = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT]


@dataclass(frozen=True, slots=True)
class Direct:
    """A delivery with no user behind it: a raw email address or phone number, or (address
    None) the channel's own endpoint."""

    channel: Channel
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one delivery is written: its channel, its first status and why, if not sent."""

    channel: Channel
    status: DeliveryStatus
    reason: str | None = None
    forced: bool = False
    held_until: datetime | None = None  # HELD: when the recipient's quiet hours end


RATE_LIMITED = "rate limited: one email per window"
QUIET = "held: the recipient's quiet hours"


@dataclass(frozen=True, slots=True)
class Route:
    """Shared by every recipient with the same answer, hence immutable throughout."""

    channels: frozenset[Channel]
    rate_limited: frozenset[Channel] = frozenset()  # recorded SUPPRESSED, not sent
    forced: frozenset[Channel] = frozenset()
    in_app_declined: bool = False  # asked for, but switched off by preferences
    quiet_until: datetime | None = None  # inside quiet hours: held channels wait till then

    def outcomes(self) -> list[Outcome]:
        """One per channel a recipient with this route is written."""
        found = []
        if self.in_app_declined:
            found.append(
                Outcome(
                    Channel.IN_APP,
                    DeliveryStatus.SUPPRESSED,
                    "in-app switched off by preferences",
                )
            )
        for channel in sorted(self.channels):
            held_until = None
            if channel is Channel.IN_APP:
                status, reason = DeliveryStatus.SENT, None
            elif channel in self.rate_limited:
                status, reason = DeliveryStatus.SUPPRESSED, RATE_LIMITED
            elif self.quiet_until and channel in quiet_hours.HELD_CHANNELS:
                status, reason, held_until = DeliveryStatus.HELD, QUIET, self.quiet_until
            else:
                status, reason = DeliveryStatus.QUEUED, None
            forced = channel in self.forced
            found.append(Outcome(channel, status, reason, forced, held_until))
        return found


@dataclass(frozen=True, slots=True)
class Plan:
    routes: dict[UUID, Route]
    direct: list[tuple[Direct, Outcome]]  # targets on channels that are not enabled are left out


async def plan(
    *,
    tenant_id: UUID,
    user_ids: list[UUID],
    direct: Sequence[Direct] = (),
    category: EventCategory | None,
    now: datetime,
    requested: set[Channel] | None = None,
    forced: set[Channel] | None = None,
    urgent: bool = False,
) -> Plan:
    """`category` as the catalogue has it; None for a free category. Quiet hours hold
    nothing critical or `urgent`."""
    enabled = await channels.enabled_channels(tenant_id=tenant_id)
    quiet = not urgent and not (category is not None and category.critical)
    routes = await _user_routes(
        tenant_id, user_ids, category, now, enabled, requested, frozenset(forced or ()), quiet
    )
    return Plan(routes=routes, direct=await _direct(tenant_id, direct, category, now, enabled))


async def _user_routes(
    tenant_id: UUID,
    user_ids: list[UUID],
    category: EventCategory | None,
    now: datetime,
    enabled: set[Channel],
    requested: set[Channel] | None,
    forced: frozenset[Channel],
    quiet: bool,
) -> dict[UUID, Route]:
    if not user_ids:
        return {}
    wanted = await preferences.channels_for_many(
        tenant_id=tenant_id, user_ids=user_ids, category=category
    )
    limited = await _recently_emailed_users(user_ids, category, now)
    resting = await quiet_hours.releases(user_ids, now) if quiet else {}
    in_app_asked = requested is None or Channel.IN_APP in requested
    routes: dict[UUID, Route] = {}
    # Recipients with the same preferences, rate limit and quiet hours share one Route.
    shared: dict[tuple[frozenset[Channel], bool, datetime | None], Route] = {}
    for user_id in user_ids:
        key = (wanted[user_id], user_id in limited, resting.get(user_id))
        if (route := shared.get(key)) is None:
            chosen = key[0] if requested is None else key[0] & requested
            chosen = (chosen & enabled) | forced
            route = shared[key] = Route(
                channels=chosen,
                rate_limited=chosen & {Channel.EMAIL} if key[1] else frozenset(),
                forced=forced,
                in_app_declined=in_app_asked and Channel.IN_APP not in chosen,
                quiet_until=key[2],
            )
        routes[user_id] = route
    return routes


async def _direct(
    tenant_id: UUID,
    targets: Sequence[Direct],
    category: EventCategory | None,
    now: datetime,
    enabled: set[Channel],
) -> list[tuple[Direct, Outcome]]:
    targets = [t for t in dict.fromkeys(targets) if t.channel in enabled]
    emails = [t.address for t in targets if t.channel is Channel.EMAIL and t.address]
    limited = await _recently_emailed_addresses(tenant_id, emails, category, now)
    planned = []
    for target in targets:
        if target.channel is Channel.EMAIL and target.address in limited:
            outcome = Outcome(target.channel, DeliveryStatus.SUPPRESSED, RATE_LIMITED)
        else:
            outcome = Outcome(target.channel, DeliveryStatus.QUEUED)
        planned.append((target, outcome))
    return planned


def _rate_window(category: EventCategory | None, now: datetime) -> tuple[str, datetime] | None:
    """The category, and since when an earlier email of it holds the next one back; None
    where it has no limit."""
    if category is None or not category.email_rate_limit_seconds:
        return None
    return category.key, now - timedelta(seconds=category.email_rate_limit_seconds)


async def _recently_emailed_users(
    user_ids: list[UUID], category: EventCategory | None, now: datetime
) -> set[UUID]:
    """Recipients who already got (or are about to get) an email of this category inside its
    rate-limit window."""
    if (window := _rate_window(category, now)) is None:
        return set()
    key, since = window
    found: set[UUID] = set()
    for start in range(0, len(user_ids), LOOKUP_BATCH):
        rows = await Delivery.filter(
            recipient_id__in=user_ids[start : start + LOOKUP_BATCH],
            channel=Channel.EMAIL,
            category=key,
            status__in=_COUNTED,
            created_at__gte=since,
        ).values_list("recipient_id", flat=True)
        found.update(UUID(str(r)) for r in rows)
    return found


async def _recently_emailed_addresses(
    tenant_id: UUID, addresses: list[str], category: EventCategory | None, now: datetime
) -> set[str]:
    """The same for raw addresses."""
    if not addresses or (window := _rate_window(category, now)) is None:
        return set()
    key, since = window
    rows = await Delivery.filter(
        tenant_id=tenant_id,
        address__in=addresses,
        channel=Channel.EMAIL,
        category=key,
        status__in=_COUNTED,
        created_at__gte=since,
    ).values_list("address", flat=True)
    return {str(r) for r in rows}
