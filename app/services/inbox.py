"""A user's inbox as it reads: the lists, their filters and orders, and the counts. What
changes a notification's state is in inbox_changes."""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from app import clock
from app.models import Notification, NotificationTag, Priority
from app.services import counters
from app.services.counters import Counts
from app.services.pagination import Page, PageRequest, below, encode_cursor, older_than
from app.services.validation import check_category_filter, check_tags, parse_id


class ReadState(StrEnum):
    UNREAD = "UNREAD"
    READ = "READ"
    ALL = "ALL"


class ArchiveFilter(StrEnum):
    EXCLUDE = "EXCLUDE"  # the inbox
    ONLY = "ONLY"  # the archive
    INCLUDE = "INCLUDE"  # both


class NotificationOrder(StrEnum):
    NEWEST = "NEWEST"
    PRIORITY = "PRIORITY"  # highest first, then newest


@dataclass(frozen=True, slots=True)
class InboxFilter:
    read_state: ReadState = ReadState.ALL
    categories: list[str] | None = None
    archived: ArchiveFilter = ArchiveFilter.EXCLUDE
    priorities: list[Priority] | None = None
    tags: list[str] | None = None  # any of
    snoozed: bool = False  # True: only the snoozed ones
    teams: list[str] | None = None  # came through any of these teams

    @property
    def counted(self) -> bool:
        """Whether the counters know how many notifications match."""
        return (
            self.priorities is None
            and self.tags is None
            and self.teams is None
            and not self.snoozed
        )


@dataclass(frozen=True, slots=True)
class InboxPage:
    page: Page[Notification]
    total_count: int
    unread_count: int


def visible(user_id: UUID) -> QuerySet[Notification]:
    """Neither deleted nor expired: an expired one is hidden at once, before the inbox clock
    deletes it."""
    return Notification.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now()),
        recipient_id=user_id,
        deleted_at__isnull=True,
    )


def _filtered(user_id: UUID, inbox_filter: InboxFilter) -> QuerySet[Notification]:
    query = visible(user_id)
    if inbox_filter.snoozed:
        query = query.filter(snoozed_until__isnull=False)  # archived ones are never snoozed
    else:
        query = query.filter(snoozed_until__isnull=True)
    if inbox_filter.archived is ArchiveFilter.EXCLUDE:
        query = query.filter(archived_at__isnull=True)
    elif inbox_filter.archived is ArchiveFilter.ONLY:
        query = query.filter(archived_at__isnull=False)
    if inbox_filter.read_state is ReadState.UNREAD:
        query = query.filter(read_at__isnull=True)
    elif inbox_filter.read_state is ReadState.READ:
        query = query.filter(read_at__isnull=False)
    if inbox_filter.categories is not None:
        query = query.filter(category__in=inbox_filter.categories)
    if inbox_filter.priorities is not None:
        query = query.filter(priority__in=inbox_filter.priorities)
    if inbox_filter.teams is not None:
        query = query.filter(team_key__in=inbox_filter.teams)
    if inbox_filter.tags is not None:
        tagged = NotificationTag.filter(recipient_id=user_id, tag__in=inbox_filter.tags)
        query = query.filter(id__in=Subquery(tagged.values("notification_id")))
    return query


def _matching(counts: Counts, inbox_filter: InboxFilter) -> int:
    """How many notifications the filter lists, from the counters."""
    inbox = {
        ReadState.ALL: counts.total,
        ReadState.UNREAD: counts.unread,
        ReadState.READ: counts.read,
    }[inbox_filter.read_state]
    archive = {
        ReadState.ALL: counts.archived,
        ReadState.UNREAD: counts.archived_unread,
        ReadState.READ: counts.archived - counts.archived_unread,
    }[inbox_filter.read_state]
    return {
        ArchiveFilter.EXCLUDE: inbox,
        ArchiveFilter.ONLY: archive,
        ArchiveFilter.INCLUDE: inbox + archive,
    }[inbox_filter.archived]


async def list_notifications(
    *,
    user_id: UUID,
    request: PageRequest,
    inbox_filter: InboxFilter,
    order: NotificationOrder = NotificationOrder.NEWEST,
) -> InboxPage:
    check_category_filter(inbox_filter.categories, field="categories")
    check_tags(inbox_filter.tags or ())
    check_category_filter(inbox_filter.teams, field="teams")
    by_priority = order is NotificationOrder.PRIORITY
    query = _filtered(user_id, inbox_filter).order_by(
        *(["-priority"] if by_priority else []), "-created_at", "-id"
    )
    if request.after:
        query = query.filter(below(request.after) if by_priority else older_than(request.after))
    if request.offset:
        query = query.offset(request.offset)
    rows = await query.limit(request.first + 1)
    items = rows[: request.first]
    page = Page(
        items=items,
        cursors=[
            encode_cursor(n.created_at, n.id, n.priority if by_priority else None) for n in items
        ],
        has_next_page=len(rows) > request.first,
        has_previous_page=bool(request.after or request.offset),
    )
    if inbox_filter.counted:
        counts = await stats_for(user_id=user_id, categories=inbox_filter.categories)
        matching = _matching(counts, inbox_filter)
    else:  # by properties no counter keeps: counted in the database
        matching = await _filtered(user_id, inbox_filter).count()
    return InboxPage(
        page=page, total_count=matching, unread_count=await unread_count(user_id=user_id)
    )


async def get_notification(*, user_id: UUID, notification_id: str) -> Notification | None:
    return await visible(user_id).get_or_none(id=parse_id(notification_id))


async def stats_for(*, user_id: UUID, categories: list[str] | None = None) -> Counts:
    check_category_filter(categories)
    return await counters.totals(user_id, categories)


async def unread_count(*, user_id: UUID, category: str | None = None) -> int:
    return (await stats_for(user_id=user_id, categories=[category] if category else None)).unread


async def unseen_count(*, user_id: UUID, category: str | None = None) -> int:
    return (await stats_for(user_id=user_id, categories=[category] if category else None)).unseen
