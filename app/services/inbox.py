"""A user's inbox: list, count, read and delete. Every change keeps the counters exact."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.auth import UserPrincipal
from app.errors import BadUserInput, InvalidNotificationIds, NotFound
from app.live.messages import InboxEventKind, InboxMessage, NotificationPayload
from app.live.publish import publish_inbox
from app.models import Notification
from app.services import counters
from app.services.pagination import Page, PageRequest, encode_cursor, older_than
from app.services.validation import check_category_filter, parse_uuid

MAX_IDS_PER_CALL = 1000


class ReadState(StrEnum):
    UNREAD = "UNREAD"
    READ = "READ"
    ALL = "ALL"


@dataclass(frozen=True, slots=True)
class InboxFilter:
    read_state: ReadState = ReadState.ALL
    categories: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Stats:
    total: int
    unread: int

    @property
    def read(self) -> int:
        return self.total - self.unread


@dataclass(frozen=True, slots=True)
class InboxPage:
    page: Page[Notification]
    total_count: int
    unread_count: int


def _visible(user_id: UUID) -> QuerySet[Notification]:
    return Notification.filter(recipient_id=user_id, deleted_at__isnull=True)


def _filtered(user_id: UUID, inbox_filter: InboxFilter) -> QuerySet[Notification]:
    query = _visible(user_id)
    if inbox_filter.read_state is ReadState.UNREAD:
        query = query.filter(read_at__isnull=True)
    elif inbox_filter.read_state is ReadState.READ:
        query = query.filter(read_at__isnull=False)
    if inbox_filter.categories is not None:
        query = query.filter(category__in=inbox_filter.categories)
    return query


async def list_notifications(
    *, user_id: UUID, request: PageRequest, inbox_filter: InboxFilter
) -> InboxPage:
    check_category_filter(inbox_filter.categories, field="categories")
    query = _filtered(user_id, inbox_filter).order_by("-created_at", "-id")
    if request.after:
        query = query.filter(older_than(request.after))
    if request.offset:
        query = query.offset(request.offset)
    rows = await query.limit(request.first + 1)
    items = rows[: request.first]
    stats = await stats_for(user_id=user_id, categories=inbox_filter.categories)
    total = {
        ReadState.ALL: stats.total,
        ReadState.UNREAD: stats.unread,
        ReadState.READ: stats.read,
    }[inbox_filter.read_state]
    page = Page(
        items=items,
        cursors=[encode_cursor(n.created_at, n.id) for n in items],
        has_next_page=len(rows) > request.first,
        has_previous_page=bool(request.after or request.offset),
    )
    return InboxPage(page=page, total_count=total, unread_count=await unread_count(user_id=user_id))


async def get_notification(*, user_id: UUID, notification_id: str) -> Notification | None:
    nid = parse_uuid(notification_id)
    return None if nid is None else await _visible(user_id).get_or_none(id=nid)


async def stats_for(*, user_id: UUID, categories: list[str] | None = None) -> Stats:
    check_category_filter(categories)
    total, unread = await counters.totals(user_id, categories)
    return Stats(total=total, unread=unread)


async def unread_count(*, user_id: UUID, category: str | None = None) -> int:
    return (await stats_for(user_id=user_id, categories=[category] if category else None)).unread


async def mark_read(*, viewer: UserPrincipal, notification_id: str) -> bool:
    """Idempotent: an unknown, foreign or already read id changes nothing and is no error."""
    nid = parse_uuid(notification_id)
    if nid is not None:
        await _set_read_state(viewer, nid, read=True)
    return True


async def set_read(*, viewer: UserPrincipal, notification_id: str, read: bool) -> Notification:
    nid = parse_uuid(notification_id)
    notification = None if nid is None else await _set_read_state(viewer, nid, read=read)
    if notification is None:
        raise NotFound("Notification not found")
    return notification


async def _set_read_state(viewer: UserPrincipal, nid: UUID, *, read: bool) -> Notification | None:
    user_id = viewer.user_id
    async with in_transaction():
        # The read_at condition makes the update itself the check, so racing calls count once.
        changed = (
            await _visible(user_id)
            .filter(id=nid, read_at__isnull=read)
            .update(read_at=datetime.now(UTC) if read else None)
        )
        notification = await _visible(user_id).get_or_none(id=nid)
        if not changed or notification is None:
            return notification
        await counters.add_per_category(user_id, [notification.category], unread=-1 if read else 1)
        unread = await _unread_total(user_id)
    await _tell(
        viewer,
        InboxMessage(
            kind=InboxEventKind.UPDATED,
            unread_count=unread,
            notification=NotificationPayload.of(notification),
            notification_ids=[str(nid)],
            categories=[notification.category],
        ),
    )
    return notification


async def mark_many_read(*, viewer: UserPrincipal, notification_ids: list[str]) -> int:
    """Marks the listed ids read, or every unread one when the list is empty. All or nothing:
    if any id is not the caller's, nothing is marked and every such id is reported."""
    user_id = viewer.user_id
    if not notification_ids:
        return await mark_all_read(viewer=viewer)
    if len(notification_ids) > MAX_IDS_PER_CALL:
        raise BadUserInput(f"At most {MAX_IDS_PER_CALL} ids per call", field="ids")
    parsed = {raw: parse_uuid(raw) for raw in notification_ids}
    wanted = {nid for nid in parsed.values() if nid is not None}
    rows = await _visible(user_id).filter(id__in=wanted).values_list("id", "category", "read_at")
    owned = {row[0] for row in rows}
    invalid = [raw for raw, nid in parsed.items() if nid not in owned]
    if invalid:
        raise InvalidNotificationIds(invalid)
    by_category: dict[str, list[UUID]] = defaultdict(list)
    for nid, category, read_at in rows:
        if read_at is None:
            by_category[category].append(nid)
    if not by_category:
        return 0
    marked = 0
    async with in_transaction():
        now = datetime.now(UTC)
        for category, ids in by_category.items():
            marked += await _mark_unread_as_read(user_id, category, now, ids)
        unread = await _unread_total(user_id)
    if marked:
        await _tell(
            viewer,
            InboxMessage(
                kind=InboxEventKind.UPDATED,
                unread_count=unread,
                notification_ids=[str(i) for ids in by_category.values() for i in ids],
                categories=list(by_category),
            ),
        )
    return marked


async def mark_all_read(*, viewer: UserPrincipal, category: str | None = None) -> int:
    check_category_filter([category] if category else None)
    user_id = viewer.user_id
    marked = 0
    async with in_transaction():
        now = datetime.now(UTC)
        had_unread = await counters.unread_by_category(user_id, [category] if category else None)
        for cat in had_unread:
            marked += await _mark_unread_as_read(user_id, cat, now)
        unread = await _unread_total(user_id)
    if marked:
        await _tell(
            viewer,
            InboxMessage(
                kind=InboxEventKind.UPDATED,
                unread_count=unread,
                categories=list(had_unread),
                all=True,
                category=category,
            ),
        )
    return marked


async def _mark_unread_as_read(
    user_id: UUID, category: str, now: datetime, ids: list[UUID] | None = None
) -> int:
    query = _visible(user_id).filter(category=category, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=ids)
    marked = await query.update(read_at=now)
    if marked:
        await counters.add_per_category(user_id, [category], unread=-marked)
    return marked


async def delete_notification(*, viewer: UserPrincipal, notification_id: str) -> bool:
    """Soft delete, idempotent: unknown, foreign or already deleted ids are a no-op."""
    user_id = viewer.user_id
    nid = parse_uuid(notification_id)
    if nid is None:
        return True
    async with in_transaction():
        notification = await _visible(user_id).select_for_update().get_or_none(id=nid)
        if notification is None:
            return True
        await Notification.filter(id=nid).update(deleted_at=datetime.now(UTC))
        was_unread = notification.read_at is None
        await counters.add_per_category(
            user_id, [notification.category], total=-1, unread=-1 if was_unread else 0
        )
        unread = await _unread_total(user_id)
    await _tell(
        viewer,
        InboxMessage(
            kind=InboxEventKind.DELETED,
            unread_count=unread,
            notification_ids=[str(nid)],
            categories=[notification.category],
        ),
    )
    return True


async def delete_read(*, viewer: UserPrincipal) -> int:
    user_id = viewer.user_id
    deleted = 0
    async with in_transaction():
        now = datetime.now(UTC)
        categories = await counters.categories_with_read(user_id)
        for category in categories:
            n = (
                await _visible(user_id)
                .filter(category=category, read_at__isnull=False)
                .update(deleted_at=now)
            )
            if n:
                await counters.add_per_category(user_id, [category], total=-n)
            deleted += n
        unread = await _unread_total(user_id)
    if deleted:
        await _tell(
            viewer,
            InboxMessage(
                kind=InboxEventKind.DELETED, unread_count=unread, categories=categories, all=True
            ),
        )
    return deleted


async def _unread_total(user_id: UUID) -> int:
    return (await counters.totals(user_id))[1]


async def _tell(viewer: UserPrincipal, message: InboxMessage) -> None:
    """Live event for the user's open tabs; only ever called after the change committed."""
    await publish_inbox(viewer.tenant_id, [(viewer.user_id, message)])
