"""Per (user, category) inbox totals, changed in the same transaction as the notifications."""

from collections import Counter
from collections.abc import Iterable, Sequence
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
from app.models import InboxCounter

BATCH = 500  # rows per statement; 5 parameters each stays far below every driver's limit


_UPSERT = (
    "ON CONFLICT (user_id, category) DO UPDATE SET "
    "total = inbox_counters.total + excluded.total, "
    "unread = inbox_counters.unread + excluded.unread"
)


async def add(deltas: dict[tuple[UUID, str], tuple[int, int]]) -> None:
    """Add (total, unread) to each (user, category) counter, creating missing rows. Inbox
    changes touch a few; a publish to many goes through count_new."""
    rows = [(user_id, category, t, u) for (user_id, category), (t, u) in deltas.items()]
    conn = connection()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        marks = placeholders(conn, 5 * len(batch))
        values_sql = ", ".join(
            f"({', '.join(marks[i * 5 : i * 5 + 5])})" for i in range(len(batch))
        )
        values: list[object] = []
        for user_id, category, total, unread in batch:
            values += [str(uuid4()), str(user_id), category, total, unread]
        await conn.execute_query(
            "INSERT INTO inbox_counters (id, user_id, category, total, unread) "
            f"VALUES {values_sql} {_UPSERT}",
            values,
        )


async def count_new(
    user_ids: list[UUID], category: str, *, inserting: Sequence[Rows] = ()
) -> dict[UUID, int]:
    """One new unread notification of `category` for each user (each listed once), after
    inserting the rows that hold them; returns every user's unread total afterwards. On
    PostgreSQL the upsert returns the new value of its counter and adds the user's other
    categories, and a few rows go in by the same statement (db.insert_then)."""
    conn = connection()
    if not is_postgres(conn):
        for model, rows in inserting:
            await bulk_insert(model, rows)
        await add({(user_id, category): (1, 1) for user_id in user_ids})
        return await unread_totals(user_ids)
    rows = await insert_then(
        inserting,
        "WITH changed AS ("
        "INSERT INTO inbox_counters (id, user_id, category, total, unread) "
        "SELECT gen_random_uuid(), u, $2, 1, 1 FROM unnest($1::uuid[]) AS u "
        f"{_UPSERT} RETURNING user_id, unread) "
        "SELECT user_id, unread + COALESCE((SELECT SUM(c.unread) FROM inbox_counters c "
        "WHERE c.user_id = changed.user_id AND c.category <> $2), 0) AS unread FROM changed",
        [user_ids, category],
    )
    return {as_uuid(row["user_id"]): int(row["unread"]) for row in rows}


async def add_per_category(
    user_id: UUID, categories: Iterable[str], *, total: int = 0, unread: int = 0
) -> None:
    """Apply the same delta once per listed category (repeats add up)."""
    per_category = Counter(categories)
    if per_category:
        await add({(user_id, c): (total * n, unread * n) for c, n in per_category.items()})


async def totals(user_id: UUID, categories: Iterable[str] | None = None) -> tuple[int, int]:
    """(total, unread) across the user's categories, or only the given ones."""
    query = InboxCounter.filter(user_id=user_id)
    if categories is not None:
        query = query.filter(category__in=list(categories))
    rows = await query.values_list("total", "unread")
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


async def unread_totals(user_ids: list[UUID]) -> dict[UUID, int]:
    """Each user's unread total, summed in the database (Tortoise's values_list costs more in
    Python than the query does in SQL when a publish reaches thousands of users)."""
    totals: dict[UUID, int] = dict.fromkeys(user_ids, 0)
    conn = connection()
    for batch in batches(conn, user_ids):
        condition, values = is_in(conn, "user_id", [str(u) for u in batch])
        rows = await conn.execute_query_dict(
            f"SELECT user_id, SUM(unread) AS unread FROM inbox_counters WHERE {condition} "
            "GROUP BY user_id",
            values,
        )
        for row in rows:
            totals[as_uuid(row["user_id"])] = int(row["unread"])
    return totals


async def categories_with_read(user_id: UUID) -> list[str]:
    rows = await InboxCounter.filter(user_id=user_id).values_list("category", "total", "unread")
    return [category for category, total, unread in rows if total > unread]


async def unread_by_category(user_id: UUID, categories: Iterable[str] | None) -> dict[str, int]:
    query = InboxCounter.filter(user_id=user_id, unread__gt=0)
    if categories is not None:
        query = query.filter(category__in=list(categories))
    return dict(await query.values_list("category", "unread"))
