"""A publish with a collapse key replaces the recipient's latest unread notification with that
key and category, instead of adding a row: its content, its time, one more occurrence."""

from datetime import datetime
from uuid import UUID

from tortoise.expressions import Q

from app import clock
from app.models import Notification, NotificationRow, NotificationTag
from app.services import counters

# What a new occurrence brings to the notification it collapses into.
CONTENT = (
    "title",
    "body",
    "link",
    "data",
    "priority",
    "actions",
    "tags",
    "expires_at",
    "team_key",
    "team_name",
)


async def into_latest(
    rows: list[NotificationRow], *, key: str, category: str, urgent: bool
) -> dict[UUID, Notification]:
    """Inside the publish's transaction: for each new row (one per recipient) whose recipient
    has an unread notification in the inbox with the key and category, the latest one is
    replaced by the row. Returns {the row's id: the notification it went into}. Recipients'
    rows are locked first, so concurrent publishes with the key take turns."""
    by_user = {row.recipient_id: row for row in rows}
    if not by_user:
        return {}
    await counters.take_turns(by_user)
    now = clock.now()
    latest: dict[UUID, Notification] = {}
    for n in await Notification.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        recipient_id__in=list(by_user),
        collapse_key=key,
        category=category,
        read_at__isnull=True,
        archived_at__isnull=True,
        deleted_at__isnull=True,
    ).order_by("-created_at", "-id"):
        latest.setdefault(n.recipient_id, n)
    for user_id, n in latest.items():
        await _replace(n, by_user[user_id], urgent=urgent, now=now)
    if latest:
        await NotificationTag.filter(notification_id__in=[n.id for n in latest.values()]).delete()
    return {by_user[user_id].id: n for user_id, n in latest.items()}


async def _replace(n: Notification, row: NotificationRow, *, urgent: bool, now: datetime) -> None:
    """The row's content in place of n's, n moved to the top. URGENT shows at once, even
    where n was snoozed."""
    before = counters.Place.of(n)
    changes: dict[str, object] = {name: getattr(row, name) for name in CONTENT}
    changes |= {"created_at": now, "occurrences": n.occurrences + 1}
    if row.idempotency_key is not None:
        changes["idempotency_key"] = row.idempotency_key  # a retry finds this one
    if urgent:
        changes["snoozed_until"] = None
    await Notification.filter(id=n.id).update(**changes)
    for name, value in changes.items():
        setattr(n, name, value)
    moved = counters.move(before, counters.Place.of(n))
    await counters.add_moves(n.recipient_id, [(n.category, moved)])
