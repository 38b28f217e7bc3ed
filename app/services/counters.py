"""Per (user, category) inbox totals, changed in the same transaction as the notifications.

A notification counts by its place: in the inbox (`total`, and `unread` and `unseen` while it
is so) or in the archive (`archived`, and `archived_unread`); a deleted one not at all. Every
change to a notification is a move between places, and adds the difference to its counter.

Whatever changes a user's notifications and counters first takes that user's turn (take_turns):
two changes that lock the same rows in different orders would otherwise deadlock."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple, Self, TypedDict
from uuid import UUID, uuid4

from app.db import (
    Rows,
    as_uuid,
    batches,
    bulk_insert,
    connection,
    insert_then,
    is_in,
    is_postgres,
    placeholders,
)
from app.models import InboxCounter, Notification

BATCH = 200  # rows per statement; 8 parameters each stays far below every driver's limit


@dataclass(frozen=True, slots=True)
class Counts:
    """Counter columns' values, or changes to them."""

    total: int = 0
    unread: int = 0
    unseen: int = 0
    archived: int = 0
    archived_unread: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def __sub__(self, other: "Counts") -> "Counts":
        return Counts(*(a - b for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple[int, ...]:
        return (self.total, self.unread, self.unseen, self.archived, self.archived_unread)

    @property
    def read(self) -> int:
        return self.total - self.unread

    def holds(self, place: "Place") -> bool:
        """Whether some notification may be at `place` (the counters cannot always tell)."""
        if place.archived:
            return (
                self.archived_unread > 0 if not place.read else self.archived > self.archived_unread
            )
        if not place.read:
            return self.unread > 0
        return self.read > 0


COLUMNS = [f.name for f in fields(Counts)]
NOTHING = Counts()


@dataclass(frozen=True, slots=True)
class Place:
    """Where one notification counts."""

    archived: bool = False
    read: bool = False
    seen: bool = False
    snoozed: bool = False  # out of the inbox for now: counted nowhere

    @classmethod
    def of(cls, n: Notification) -> Self:
        return cls(
            archived=n.archived_at is not None,
            read=n.read_at is not None,
            seen=n.seen_at is not None,
            snoozed=n.snoozed_until is not None,
        )

    def counts(self) -> Counts:
        if self.archived:
            return Counts(archived=1, archived_unread=0 if self.read else 1)
        if self.snoozed:
            return NOTHING
        return Counts(total=1, unread=0 if self.read else 1, unseen=0 if self.seen else 1)


async def take_turns(user_ids: Iterable[UUID]) -> None:
    """Locks the users' rows until the transaction ends, in one order, so changes to one user's
    inbox run one after another. FOR NO KEY UPDATE leaves publishes free to add notifications
    that refer to the user. SQLite has no row locks: its writes take turns anyway."""
    conn = connection()
    if is_postgres(conn):
        condition, values = is_in(conn, "id", sorted(set(user_ids)))
        await conn.execute_query(
            f"SELECT id FROM users WHERE {condition} ORDER BY id FOR NO KEY UPDATE", values
        )


def move(before: Place | None, after: Place | None, times: int = 1) -> Counts:
    """What `times` notifications moving from `before` to `after` change (None: deleted)."""
    change = (after.counts() if after else NOTHING) - (before.counts() if before else NOTHING)
    return Counts(*(times * v for v in change.values()))


class Badges(NamedTuple):
    unread: int
    unseen: int


class _Counted(TypedDict):
    user_id: UUID | str
    unread: int
    unseen: int


_UPSERT = "ON CONFLICT (user_id, category) DO UPDATE SET " + ", ".join(
    f"{c} = inbox_counters.{c} + excluded.{c}" for c in COLUMNS
)


async def add(changes: dict[tuple[UUID, str], Counts]) -> None:
    """Add each change to its (user, category) counter, creating missing rows. Inbox changes
    touch a few; a publish to many goes through count_new."""
    rows = [(key, change) for key, change in changes.items() if change != NOTHING]
    conn = connection()
    width = 3 + len(COLUMNS)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        marks = placeholders(conn, width * len(batch))
        values_sql = ", ".join(
            f"({', '.join(marks[i * width : (i + 1) * width])})" for i in range(len(batch))
        )
        values: list[object] = []
        for (user_id, category), change in batch:
            values += [str(uuid4()), str(user_id), category, *change.values()]
        await conn.execute_query(
            f"INSERT INTO inbox_counters (id, user_id, category, {', '.join(COLUMNS)}) "
            f"VALUES {values_sql} {_UPSERT}",
            values,
        )


async def add_moves(user_id: UUID, moves: Iterable[tuple[str, Counts]]) -> None:
    """Add the changes of a user's notifications, each given with its category."""
    per_category: dict[str, Counts] = defaultdict(Counts)
    for category, change in moves:
        per_category[category] += change
    await add({(user_id, category): change for category, change in per_category.items()})


async def count_new(
    user_ids: list[UUID], category: str, *, inserting: Sequence[Rows] = ()
) -> dict[UUID, Badges]:
    """One new unread, unseen notification of `category` for each user (each listed once),
    after inserting the rows that hold them; returns every user's badges afterwards. On
    PostgreSQL the upsert returns the new values of its counter and adds the user's other
    categories, and a few rows go in by the same statement (db.insert_then)."""
    conn = connection()
    if not is_postgres(conn):
        for model, table_rows in inserting:
            await bulk_insert(model, table_rows)
        await add(
            {(user_id, category): Counts(total=1, unread=1, unseen=1) for user_id in user_ids}
        )
        return await badges(user_ids)
    rows = await insert_then(
        inserting,
        "WITH changed AS ("
        f"INSERT INTO inbox_counters (id, user_id, category, {', '.join(COLUMNS)}) "
        "SELECT gen_random_uuid(), u, $2, 1, 1, 1, 0, 0 FROM unnest($1::uuid[]) AS u "
        "ON CONFLICT (user_id, category) DO UPDATE SET "
        "total = inbox_counters.total + 1, unread = inbox_counters.unread + 1, "
        "unseen = inbox_counters.unseen + 1 RETURNING user_id, unread, unseen), "
        "others AS (SELECT c.user_id, SUM(c.unread) AS unread, SUM(c.unseen) AS unseen "
        "FROM inbox_counters c WHERE c.user_id = ANY($1::uuid[]) AND c.category <> $2 "
        "GROUP BY c.user_id) "
        "SELECT changed.user_id, changed.unread + COALESCE(others.unread, 0) AS unread, "
        "changed.unseen + COALESCE(others.unseen, 0) AS unseen "
        "FROM changed LEFT JOIN others ON others.user_id = changed.user_id",
        [user_ids, category],
        _Counted,
    )
    return {as_uuid(row["user_id"]): Badges(int(row["unread"]), int(row["unseen"])) for row in rows}


async def totals(user_id: UUID, categories: Iterable[str] | None = None) -> Counts:
    """The counters summed across the user's categories, or only the given ones."""
    query = InboxCounter.filter(user_id=user_id)
    if categories is not None:
        query = query.filter(category__in=list(categories))
    found = NOTHING
    for row in await query.values_list(*COLUMNS):
        found += Counts(*row)
    return found


async def badges(user_ids: list[UUID]) -> dict[UUID, Badges]:
    """Each user's unread and unseen totals, summed in the database (Tortoise's values_list
    costs more in Python than the query does in SQL when a publish reaches thousands)."""
    found = dict.fromkeys(user_ids, Badges(0, 0))
    conn = connection()
    for batch in batches(conn, user_ids):
        condition, values = is_in(conn, "user_id", [str(u) for u in batch])
        rows = await conn.execute_query_dict(
            "SELECT user_id, SUM(unread) AS unread, SUM(unseen) AS unseen FROM inbox_counters "
            f"WHERE {condition} GROUP BY user_id",
            values,
        )
        for row in rows:
            found[as_uuid(row["user_id"])] = Badges(int(row["unread"]), int(row["unseen"]))
    return found


async def by_category(user_id: UUID) -> dict[str, Counts]:
    rows = await InboxCounter.filter(user_id=user_id).values_list("category", *COLUMNS)
    return {category: Counts(*values) for category, *values in rows}
