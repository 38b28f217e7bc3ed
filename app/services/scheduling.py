"""Notifications published with a sendAt: kept aside, in no inbox and no count, then
published at that time exactly as a publish then would be (inbox, channels, live events),
once however many workers run. Until then they can be listed and cancelled."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import clock, jobs, metrics
from app.db import as_uuid, new_ids
from app.errors import BadUserInput, BelfryError, NotFound
from app.logs import request_id as current_request_id
from app.models import Notification, Priority, ScheduledContent, ScheduledNotification, TeamRef
from app.services import audience, catalog, publishing
from app.services.pagination import Page, PageRequest, soonest_first
from app.services.publishing import Action, NotificationDraft, PublishResult, Routing

logger = logging.getLogger("belfry.scheduling")

MAX_AHEAD = timedelta(days=365)
BATCH = 100  # publishes a run sends at most


async def publish_at(
    *,
    tenant_id: UUID,
    recipients: list[str],
    draft: NotificationDraft,
    send_at: datetime | None,
    teams: list[str] | None = None,
    idempotency_key: str | None = None,
) -> PublishResult:
    """A publish now, or, with a send_at to come, kept until then. The ids returned are those
    the notifications will have. Teams are expanded now: their members at this call are the
    recipients then."""
    now = clock.now()
    if send_at is None or send_at <= now:
        return await publishing.publish_notification(
            tenant_id=tenant_id,
            recipients=recipients,
            draft=draft,
            teams=teams,
            idempotency_key=idempotency_key,
        )
    if send_at > now + MAX_AHEAD:
        raise BadUserInput("sendAt must be at most a year ahead", field="sendAt")
    if draft.expires_at is not None and draft.expires_at <= send_at:
        raise BadUserInput("expiresAt must be after sendAt", field="expiresAt")
    draft.validate()
    reached = await audience.of(tenant_id, recipients, teams or [])
    external_ids = reached.external_ids
    await catalog.require_publishable(tenant_id=tenant_id, key=draft.category)
    if idempotency_key is not None and (
        earlier := await publishing.earlier_result(tenant_id, idempotency_key, external_ids)
    ):
        return earlier
    user_ids = await audience.resolve(tenant_id, external_ids)
    team_of = reached.team_by_user(user_ids)
    ids = new_ids(len(user_ids))
    [batch_id] = new_ids(1)
    rows = [
        ScheduledNotification(
            id=nid,
            batch_id=batch_id,
            position=position,
            tenant_id=tenant_id,
            recipient_id=user_id,
            category=draft.category,
            content=_content(draft),
            idempotency_key=idempotency_key,
            **TeamRef.columns(team_of.get(user_id)),
            send_at=send_at,
            request_id=current_request_id.get(),
            created_at=now,
        )
        for position, (user_id, nid) in enumerate(zip(user_ids, ids, strict=True))
    ]
    try:
        async with in_transaction():
            await ScheduledNotification.bulk_create(rows, batch_size=500)
    except IntegrityError:  # a concurrent retry with the same key won
        if idempotency_key and (
            earlier := await publishing.earlier_result(tenant_id, idempotency_key, external_ids)
        ):
            return earlier
        raise
    return PublishResult(notification_ids=ids, duplicate=False)


def _content(draft: NotificationDraft) -> ScheduledContent:
    return {
        "title": draft.title,
        "body": draft.body,
        "link": draft.link,
        "data": draft.data,
        "priority": draft.priority.name,
        "actions": draft.actions_json(),
        "tags": list(draft.tags),
        "expires_at": draft.expires_at.isoformat() if draft.expires_at else None,
        "collapse_key": draft.collapse_key,
    }


def _draft(category: str, content: ScheduledContent) -> NotificationDraft:
    expires_at = content["expires_at"]
    return NotificationDraft(
        category=category,
        title=content["title"],
        body=content["body"],
        link=content["link"],
        data=content["data"],
        priority=Priority[content["priority"]],
        actions=tuple(Action(**a) for a in content["actions"] or ()),
        tags=tuple(content["tags"]),
        expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
        collapse_key=content["collapse_key"],
    )


# --- pending ones -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pending:
    row: ScheduledNotification
    recipient: str  # the external id

    @property
    def draft(self) -> NotificationDraft:
        return _draft(self.row.category, self.row.content)


async def pending(*, tenant_id: UUID, request: PageRequest) -> tuple[Page[Pending], int]:
    """The tenant's scheduled notifications, the next to go first."""
    query = ScheduledNotification.filter(tenant_id=tenant_id)
    page = await soonest_first(query.prefetch_related("recipient"), request, "send_at")
    return page.map(lambda row: Pending(row, row.recipient.external_id)), await query.count()


async def cancel(*, tenant_id: UUID, notification_id: UUID) -> bool:
    """True if it was still to go; False if it already went. NOT_FOUND when the tenant has
    no such notification, scheduled or sent."""
    if await ScheduledNotification.filter(tenant_id=tenant_id, id=notification_id).delete():
        return True
    if await Notification.filter(tenant_id=tenant_id, id=notification_id).exists():
        return False
    raise NotFound("No scheduled notification with this id")


# --- sending them when due ----------------------------------------------------------------------


async def release_due(now: datetime | None = None) -> int:
    """Publishes what is due at `now`, each publish in a transaction of its own that takes its
    rows: a row another worker holds is skipped, one it took is gone. Returns how many
    notifications went."""
    now = now or clock.now()
    due = await (
        ScheduledNotification.filter(send_at__lte=now)
        .order_by("send_at")
        .limit(BATCH)
        .values_list("batch_id", flat=True)
    )
    released = 0
    for batch_id in dict.fromkeys(as_uuid(value) for value in due):
        try:
            released += await _release(batch_id, now)
        except BelfryError as error:  # e.g. its category was deleted since: nothing can send it
            logger.error("scheduled publish %s dropped: %s", batch_id, error)
            await ScheduledNotification.filter(batch_id=batch_id).delete()
    return released


async def _release(batch_id: UUID, now: datetime) -> int:
    async with in_transaction():
        rows = (
            await ScheduledNotification.filter(batch_id=batch_id, send_at__lte=now)
            .select_for_update(skip_locked=True)
            .order_by("position")
        )
        ids = [row.id for row in rows]
        # Where rows cannot be skipped (SQLite), the delete tells who took them.
        if not rows or await ScheduledNotification.filter(id__in=ids).delete() != len(rows):
            return 0
        first = rows[0]
        current_request_id.set(first.request_id)  # the deliveries' log lines name the publish
        draft = _draft(first.category, first.content).without_unsafe_links()
        written = await publishing.write_for(
            tenant_id=first.tenant_id,
            user_ids=[row.recipient_id for row in rows],
            draft=draft,
            category=await catalog.require_publishable(
                tenant_id=first.tenant_id, key=draft.category
            ),
            routing=Routing(),
            idempotency_key=first.idempotency_key,
            ids=ids,
            teams={row.recipient_id: team for row in rows if (team := row.team) is not None},
        )
    await publishing.announce(written)
    return len(rows)


async def run_periodically(interval_seconds: float) -> None:
    await jobs.every(
        interval_seconds,
        _release_and_log,
        runs=metrics.SCHEDULE_RUNS,
        logger=logger,
        what="scheduled release",
    )


async def _release_and_log() -> None:
    if released := await release_due():
        logger.info("scheduled notifications sent: %d", released)
