"""Changes to notifications' state in a user's inbox: read, seen, archived, snoozed, acted on,
deleted. Every change keeps the counters exact, and tells the user's open tabs once it
committed."""

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app import clock
from app.auth import UserPrincipal
from app.errors import BadUserInput, InvalidNotificationIds, NotFound
from app.live.messages import InboxEventKind, InboxMessage, NotificationPayload
from app.live.publish import publish_inbox
from app.models import Notification
from app.services import counters
from app.services.counters import Counts, Place
from app.services.inbox import visible
from app.services.validation import check_category_filter, parse_id, parse_uuid

MAX_IDS_PER_CALL = 1000


# --- one notification --------------------------------------------------------------------------

Columns = dict[str, datetime | None]  # the columns a change sets, each to a time or to None
Changes = Callable[[Notification, datetime], Columns]


def _read(read: bool) -> Changes:
    def changes(n: Notification, now: datetime) -> Columns:
        if (n.read_at is not None) == read:
            return {}
        if not read:
            return {"read_at": None}
        return {"read_at": now, "seen_at": n.seen_at or now}  # read implies seen

    return changes


def _seen(n: Notification, now: datetime) -> Columns:
    return {} if n.seen_at is not None else {"seen_at": now}


def _archived(archived: bool) -> Changes:
    def changes(n: Notification, now: datetime) -> Columns:
        if (n.archived_at is not None) == archived:
            return {}
        if not archived:
            return {"archived_at": None}
        # Archived from a list the user saw; archiving ends a snooze.
        return {"archived_at": now, "seen_at": n.seen_at or now, "snoozed_until": None}

    return changes


def _deleted(n: Notification, now: datetime) -> Columns:
    return {"deleted_at": now}


async def mark_read(*, viewer: UserPrincipal, notification_id: str) -> bool:
    """Idempotent: an unknown, foreign or already read id changes nothing and is no error."""
    await _change_one(viewer, parse_id(notification_id), _read(True), InboxEventKind.UPDATED)
    return True


async def set_read(*, viewer: UserPrincipal, notification_id: str, read: bool) -> Notification:
    return await _found(viewer, notification_id, _read(read), InboxEventKind.UPDATED)


async def archive(*, viewer: UserPrincipal, notification_id: str, archived: bool) -> Notification:
    """Archived leaves the inbox's list and badges (and is seen); unarchived comes back."""
    kind = InboxEventKind.ARCHIVED if archived else InboxEventKind.UNARCHIVED
    return await _found(viewer, notification_id, _archived(archived), kind)


MIN_SNOOZE = timedelta(minutes=1)
MAX_SNOOZE = timedelta(days=90)


async def snooze(
    *, viewer: UserPrincipal, notification_id: str, until: datetime | None
) -> Notification:
    """Out of the inbox and its badges until `until` (None: back now). An archived
    notification is not snoozed: unarchive it first."""
    if until is not None:
        check_snooze(until)

    def changes(n: Notification, now: datetime) -> Columns:
        if n.archived_at is not None and until is not None:
            raise BadUserInput("An archived notification cannot be snoozed", field="id")
        return {} if n.snoozed_until == until else {"snoozed_until": until}

    kind = InboxEventKind.SNOOZED if until else InboxEventKind.RESURFACED
    return await _found(viewer, notification_id, changes, kind)


def check_snooze(until: datetime) -> None:
    ahead = until - clock.now()
    if not MIN_SNOOZE <= ahead <= MAX_SNOOZE:
        raise BadUserInput("until must be between one minute and 90 days from now", field="until")


async def record_action(
    *, viewer: UserPrincipal, notification_id: str, action_id: str
) -> Notification:
    """The viewer took one of the notification's actions: it is read, and interacted with."""

    def taken(n: Notification, now: datetime) -> Columns:
        if action_id not in {a["id"] for a in n.actions or ()}:
            raise BadUserInput(f"The notification has no action {action_id!r}", field="actionId")
        return {**_read(True)(n, now), "interacted_at": now}

    return await _found(viewer, notification_id, taken, InboxEventKind.UPDATED)


async def delete_notification(*, viewer: UserPrincipal, notification_id: str) -> bool:
    """Soft delete, idempotent: unknown, foreign or already deleted ids are a no-op."""
    await _change_one(viewer, parse_id(notification_id), _deleted, InboxEventKind.DELETED)
    return True


async def _found(
    viewer: UserPrincipal, notification_id: str, changes: Changes, kind: InboxEventKind
) -> Notification:
    nid = parse_uuid(notification_id)
    notification = None if nid is None else await _change_one(viewer, nid, changes, kind)
    if notification is None:
        raise NotFound("Notification not found")
    return notification


async def _change_one(
    viewer: UserPrincipal, nid: UUID, changes: Changes, kind: InboxEventKind
) -> Notification | None:
    """The viewer's notification as it is after `changes`; None if there is no such one."""
    async with _turn(viewer.user_id):
        rows = await _locked(viewer.user_id, [nid])
        if not rows:
            return None
        changed = await _apply(viewer.user_id, rows, changes)
        badges = await counters.totals(viewer.user_id)
    [notification] = rows
    if changed:
        await _tell(
            viewer,
            _message(kind, badges, [notification], NotificationPayload.of(notification)),
        )
    return notification


# --- many notifications, named -----------------------------------------------------------------


async def mark_many_read(*, viewer: UserPrincipal, notification_ids: list[str]) -> int:
    """Marks the listed ids read, or every unread one in the inbox when the list is empty.
    All or nothing: if any id is not the caller's, nothing is marked and every such id is
    reported."""
    if not notification_ids:
        return await mark_all_read(viewer=viewer)
    return await _change_many(viewer, notification_ids, _read(True))


async def mark_many_seen(*, viewer: UserPrincipal, notification_ids: list[str]) -> int:
    """As mark_many_read, for seen: what a user has looked at, opened or not."""
    if not notification_ids:
        return await mark_all_seen(viewer=viewer)
    return await _change_many(viewer, notification_ids, _seen)


async def _change_many(viewer: UserPrincipal, notification_ids: list[str], changes: Changes) -> int:
    if len(notification_ids) > MAX_IDS_PER_CALL:
        raise BadUserInput(f"At most {MAX_IDS_PER_CALL} ids per call", field="ids")
    parsed = {raw: parse_uuid(raw) for raw in notification_ids}
    wanted = [nid for nid in dict.fromkeys(parsed.values()) if nid is not None]
    async with _turn(viewer.user_id):
        rows = await _locked(viewer.user_id, wanted)
        owned = {n.id for n in rows}
        invalid = [raw for raw, nid in parsed.items() if nid not in owned]
        if invalid:
            raise InvalidNotificationIds(invalid)
        changed = await _apply(viewer.user_id, rows, changes)
        badges = await counters.totals(viewer.user_id)
    if changed:
        await _tell(viewer, _message(InboxEventKind.UPDATED, badges, changed))
    return len(changed)


@asynccontextmanager
async def _turn(user_id: UUID) -> AsyncIterator[None]:
    """A transaction that first takes the user's turn (counters.take_turns)."""
    async with in_transaction():
        await counters.take_turns([user_id])
        yield


async def _locked(user_id: UUID, ids: list[UUID]) -> list[Notification]:
    """The user's visible notifications among `ids`, locked until the transaction ends (the
    user's turn orders changes from here; the rows' locks hold off any other writer)."""
    return await visible(user_id).filter(id__in=ids).select_for_update().order_by("id")


async def _apply(user_id: UUID, rows: list[Notification], changes: Changes) -> list[Notification]:
    """Each row's changes written (rows with the same changes in one statement) and counted;
    the rows are updated in place. Returns the rows that changed."""
    now = clock.now()
    same: dict[tuple[tuple[str, datetime | None], ...], list[UUID]] = defaultdict(list)
    moves: list[tuple[str, Counts]] = []
    changed = []
    for n in rows:
        if not (new := changes(n, now)):
            continue
        before = Place.of(n)
        for name, value in new.items():
            setattr(n, name, value)
        after = None if n.deleted_at is not None else Place.of(n)
        moves.append((n.category, counters.move(before, after)))
        same[tuple(sorted(new.items(), key=lambda item: item[0]))].append(n.id)
        changed.append(n)
    for values, ids in same.items():
        await Notification.filter(id__in=ids).update(**dict(values))
    await counters.add_moves(user_id, moves)
    return changed


# --- everything in scope -----------------------------------------------------------------------

UNREAD, UNSEEN = Place(), Place(seen=True)  # in the inbox (read implies seen)
READ, ARCHIVED_READ = Place(read=True, seen=True), Place(archived=True, read=True, seen=True)


async def mark_all_read(*, viewer: UserPrincipal, category: str | None = None) -> int:
    """Every unread notification in the inbox (archived ones keep their state)."""
    check_category_filter([category] if category else None)
    moves = [(UNREAD, {"read_at", "seen_at"}), (UNSEEN, {"read_at"})]
    return await _move_all(viewer, moves, InboxEventKind.UPDATED, category)


async def mark_all_seen(*, viewer: UserPrincipal) -> int:
    return await _move_all(viewer, [(UNREAD, {"seen_at"})], InboxEventKind.UPDATED)


async def archive_read(*, viewer: UserPrincipal) -> int:
    """Every read notification in the inbox goes to the archive."""
    return await _move_all(viewer, [(READ, {"archived_at"})], InboxEventKind.ARCHIVED)


async def delete_read(*, viewer: UserPrincipal) -> int:
    """Every read notification, in the inbox and in the archive."""
    moves = [(READ, {"deleted_at"}), (ARCHIVED_READ, {"deleted_at"})]
    return await _move_all(viewer, moves, InboxEventKind.DELETED)


async def _move_all(
    viewer: UserPrincipal,
    moves: list[tuple[Place, set[str]]],
    kind: InboxEventKind,
    category: str | None = None,
) -> int:
    """For each (place, columns): every notification at that place (of `category`, or all)
    gets `columns` set to now. One statement per category and move, each of which moves
    rows between two known places: the counters change by its row count."""
    user_id = viewer.user_id
    moved = 0
    async with _turn(user_id):
        now = clock.now()
        at = await counters.by_category(user_id)
        categories = [
            c
            for c, counts in at.items()
            if category in (None, c) and any(counts.holds(place) for place, _ in moves)
        ]
        changes: list[tuple[str, Counts]] = []
        for cat in categories:
            for place, columns in moves:
                query = visible(user_id).filter(category=cat, **_at(place))
                if n := await query.update(**dict.fromkeys(columns, now)):
                    changes.append((cat, counters.move(place, _after(place, columns), times=n)))
                    moved += n
        await counters.add_moves(user_id, changes)
        badges = await counters.totals(user_id)
    if moved:
        message = _message(kind, badges, [], all_=True, category=category, categories=categories)
        await _tell(viewer, message)
    return moved


def _at(place: Place) -> dict[str, bool]:
    return {
        "archived_at__isnull": not place.archived,
        "read_at__isnull": not place.read,
        "seen_at__isnull": not place.seen,
        "snoozed_until__isnull": not place.snoozed,
    }


def _after(place: Place, columns: set[str]) -> Place | None:
    if "deleted_at" in columns:
        return None
    return Place(
        archived=place.archived or "archived_at" in columns,
        read=place.read or "read_at" in columns,
        seen=place.seen or "seen_at" in columns,
        snoozed=place.snoozed,
    )


# --- telling the tabs --------------------------------------------------------------------------


def _message(
    kind: InboxEventKind,
    badges: Counts,
    notifications: list[Notification],
    notification: NotificationPayload | None = None,
    *,
    all_: bool = False,
    category: str | None = None,
    categories: list[str] | None = None,  # touched: by default, the notifications'
) -> InboxMessage:
    return InboxMessage(
        kind=kind,
        unread_count=badges.unread,
        unseen_count=badges.unseen,
        notification=notification,
        notification_ids=[str(n.id) for n in notifications],
        categories=categories or list(dict.fromkeys(n.category for n in notifications)),
        all=all_,
        category=category,
    )


async def _tell(viewer: UserPrincipal, message: InboxMessage) -> None:
    """Live event for the user's open tabs; only ever called after the change committed."""
    await publish_inbox(viewer.tenant_id, [(viewer.user_id, message)])


async def change_due(
    due: QuerySet[Notification], changes: Changes, kind: InboxEventKind
) -> list[Notification]:
    """What the clock does to notifications whose time came (`due` names them by a time
    that `changes` clears): each one user's in a transaction that locks them, so that any
    number of workers change each once, then tells that user's tabs."""
    changed = []
    for tenant_id, user_id in set(await due.values_list("tenant_id", "recipient_id")):
        async with _turn(user_id):
            rows = await due.filter(recipient_id=user_id).select_for_update().order_by("id")
            done = await _apply(user_id, rows, changes)
            badges = await counters.totals(user_id)
        if done:
            payload = NotificationPayload.of(done[0]) if len(done) == 1 else None
            await publish_inbox(tenant_id, [(user_id, _message(kind, badges, done, payload))])
        changed += done
    return changed
