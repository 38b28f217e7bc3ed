"""The delivery log: what was sent where, retries, clean-up, and the dispatcher's health."""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from tortoise.functions import Count, Min
from tortoise.queryset import QuerySet

from app import clock
from app.crypto import SecretBox
from app.errors import BadUserInput, NotFound
from app.live.publish import publish_delivery, wake_workers
from app.models import FINISHED, IN_FLIGHT, QUEUE, Channel, Delivery, DeliveryStatus, Rule
from app.services import channels
from app.services.pagination import Page, PageRequest, encode_cursor, older_than
from app.services.validation import check_category_filter, check_length, parse_id, parse_uuid

MAX_BULK_DELETE = 10_000
MAX_JOB_ID = 64  # the column's width


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    channel: Channel | None = None
    status: DeliveryStatus | None = None
    category: str | None = None
    rule_id: str | None = None
    notification_id: str | None = None
    job_id: str | None = None
    before: datetime | None = None
    recipient_id: UUID | None = None  # a user sees only their own


def _filtered(tenant_id: UUID, f: DeliveryFilter) -> QuerySet[Delivery]:
    check_category_filter([f.category] if f.category is not None else None)
    check_length("jobId", f.job_id or "", MAX_JOB_ID)
    query = Delivery.filter(tenant_id=tenant_id)
    if f.channel is not None:
        query = query.filter(channel=f.channel)
    if f.status is not None:
        query = query.filter(status=f.status)
    if f.category is not None:
        query = query.filter(category=f.category)
    if f.before is not None:
        query = query.filter(created_at__lt=f.before)
    if f.recipient_id is not None:
        query = query.filter(recipient_id=f.recipient_id)
    if f.job_id is not None:
        query = query.filter(job_id=f.job_id)
    for value, column in ((f.rule_id, "rule_id"), (f.notification_id, "notification_id")):
        if value is not None:
            parsed = parse_uuid(value)
            if parsed is None:
                return Delivery.filter(id__in=[])
            query = query.filter(**{column: parsed})
    return query


async def list_deliveries(
    *, tenant_id: UUID, request: PageRequest, delivery_filter: DeliveryFilter
) -> tuple[Page[Delivery], int]:
    query = _filtered(tenant_id, delivery_filter)
    total = await query.count()
    ordered = query.order_by("-created_at", "-id").prefetch_related("notification")
    if request.after:
        ordered = ordered.filter(older_than(request.after))
    if request.offset:
        ordered = ordered.offset(request.offset)
    rows = await ordered.limit(request.first + 1)
    items = rows[: request.first]
    page = Page(
        items=items,
        cursors=[encode_cursor(d.created_at, d.id) for d in items],
        has_next_page=len(rows) > request.first,
        has_previous_page=bool(request.after or request.offset),
    )
    return page, total


async def rule_names(deliveries: list[Delivery]) -> dict[UUID, str]:
    ids = {d.rule_id for d in deliveries if d.rule_id}
    if not ids:
        return {}
    return {
        UUID(str(i)): str(n) for i, n in await Rule.filter(id__in=ids).values_list("id", "name")
    }


async def _get(tenant_id: UUID, delivery_id: str) -> Delivery:
    did = parse_uuid(delivery_id)
    delivery = None if did is None else await Delivery.get_or_none(id=did, tenant_id=tenant_id)
    if delivery is None:
        raise NotFound("Delivery not found")
    return delivery


async def retry(*, tenant_id: UUID, delivery_id: str) -> Delivery:
    """A FAILED delivery goes back to the queue for one more round of attempts."""
    delivery = await _get(tenant_id, delivery_id)
    if delivery.status is not DeliveryStatus.FAILED:
        raise BadUserInput(f"Only FAILED deliveries can be retried; this one is {delivery.status}")
    await Delivery.filter(id=delivery.id, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.QUEUED, next_attempt_at=clock.now()
    )
    await wake_workers()
    await delivery.refresh_from_db()
    await publish_delivery(delivery)
    await delivery.fetch_related("notification")
    return delivery


async def delete(*, tenant_id: UUID, delivery_id: str) -> bool:
    """Idempotent: an id that is unknown (or another tenant's) deletes nothing."""
    did = parse_id(delivery_id)
    deleted = await Delivery.filter(id=did, tenant_id=tenant_id, status__in=FINISHED).delete()
    if not deleted:
        kept = await Delivery.get_or_none(id=did, tenant_id=tenant_id)
        if kept is not None:
            raise BadUserInput(
                f"A {kept.status.value} delivery cannot be deleted until it is sent, fails or is "
                "suppressed",
                field="id",
            )
    return True


@dataclass(frozen=True, slots=True)
class Deleted:
    deleted: int
    skipped: int  # matched, but in flight


async def delete_many(*, tenant_id: UUID, delivery_filter: DeliveryFilter) -> Deleted:
    f = delivery_filter
    if f.status is None and f.rule_id is None and f.before is None:
        raise BadUserInput("Say what to delete: status, ruleId or before", field="filter")
    if f.status in IN_FLIGHT:
        raise BadUserInput(
            f"{f.status.value} deliveries cannot be deleted until they are sent, fail or are "
            "suppressed",
            field="status",
        )
    finished = _filtered(tenant_id, f).filter(status__in=FINISHED)
    deleted = 0
    while ids := await finished.limit(1000).values_list("id", flat=True):
        # The status again: a row retried meanwhile is back in the queue.
        deleted += await Delivery.filter(id__in=ids, status__in=FINISHED).delete()
    skipped = await _filtered(tenant_id, f).filter(status__in=IN_FLIGHT).count()
    return Deleted(deleted=deleted, skipped=skipped)


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    channel: Channel
    ready: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class DispatcherStatus:
    queue_depth: int
    oldest_queued_seconds: float | None
    channels: list[ChannelStatus]


async def dispatcher_status(*, tenant_id: UUID, box: SecretBox) -> DispatcherStatus:
    queued = Delivery.filter(tenant_id=tenant_id, status__in=QUEUE)
    depth = await queued.count()
    oldest = await queued.order_by("created_at").first()
    age = (clock.now() - oldest.created_at).total_seconds() if oldest else None
    statuses = [ChannelStatus(c, True, None) for c in Channel if c in channels.ALWAYS_ON]
    for view in await channels.list_channels(tenant_id=tenant_id, box=box):
        ready = view.enabled and view.readiness.ready
        reason = view.readiness.reason or (
            None if view.enabled else f"{view.channel.value}_DISABLED"
        )
        statuses.append(ChannelStatus(view.channel, ready, None if ready else reason))
    return DispatcherStatus(queue_depth=depth, oldest_queued_seconds=age, channels=statuses)


@dataclass(frozen=True, slots=True)
class ChannelQueue:
    channel: Channel
    depth: int
    oldest_age_seconds: float


async def queue_by_channel() -> list[ChannelQueue]:
    """Every tenant's deliveries queued or being sent, per channel: what an operator watches.
    Read at each scrape; ix_delivery_due (partial, on these statuses) keeps it to the queue."""
    rows = (
        await Delivery.filter(status__in=QUEUE)
        .annotate(depth=Count("id"), oldest=Min("created_at"))
        .group_by("channel")
        .values("channel", "depth", "oldest")
    )
    now = clock.now()
    return [
        ChannelQueue(
            channel=Channel(row["channel"]),
            depth=row["depth"],
            oldest_age_seconds=max(0.0, (now - _aware(row["oldest"])).total_seconds()),
        )
        for row in rows
    ]


def _aware(value: datetime | str) -> datetime:
    # An aggregate comes back as the driver gives it: text on SQLite, naive or aware elsewhere.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
