"""Below Tortoise: the text both databases store, ids for bulk inserts, and the statements its
query builder cannot express, written once for both dialects."""

import dataclasses
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from operator import attrgetter
from typing import Any, ClassVar, Protocol, TypeVar, cast
from uuid import UUID

import asyncpg
from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.exceptions import DBConnectionError, IntegrityError
from tortoise.models import MetaInfo, Model

from app import clock

T = TypeVar("T")

# Text no database of ours stores: PostgreSQL refuses NUL in text and JSON, and an unpaired
# surrogate is not UTF-8 at all.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# What a database that is down, restarting, renamed or out of connections raises, as the driver
# or Tortoise report it; anything else is a bug or bad input.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, broken pipe
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,  # shutting down, cannot connect now
    asyncpg.InsufficientResourcesError,  # too many connections
    asyncpg.InvalidCatalogNameError,  # the database is gone
)

# Field types whose Python values asyncpg encodes itself (in C) with no help from Tortoise.
# Exact types: subclasses such as CharEnumField do convert.
_NATIVE_ON_POSTGRES = {
    fields.UUIDField,
    fields.DatetimeField,
    fields.CharField,
    fields.TextField,
    fields.IntField,
    fields.BooleanField,
}


# A version 7 UUID (RFC 9562): 48 bits of Unix time in milliseconds, the version (7), 12
# random bits, the variant (0b10), 62 random bits.
_V7_RANDOM_BITS = (0xFFF << 64) | ((1 << 62) - 1)


def new_ids(count: int) -> list[UUID]:
    """Time-ordered (version 7) UUIDs for rows a bulk insert writes, which returns no keys.
    Ids made together share their leading bits, so a publish's rows land at the right-hand end
    of every index on an id (primary keys, deliveries.notification_id) instead of on a random
    page each: on a table of a few hundred thousand rows, a 1,000-recipient publish spends
    about a fifth less time in PostgreSQL. 74 random bits keep them unguessable; their time is
    the rows' created_at, which readers see anyway. One read of the system's randomness for
    all of them: a publish to many makes two ids per recipient."""
    prefix = int(clock.now().timestamp() * 1000) << 80 | 0x7 << 76 | 0b10 << 62
    data = os.urandom(16 * count)
    return [
        UUID(int=prefix | (int.from_bytes(data[i : i + 16], "big") & _V7_RANDOM_BITS))
        for i in range(0, 16 * count, 16)
    ]


def model_meta(model: type[Model]) -> MetaInfo:
    """Tortoise's description of a model: its table, and its fields by name and by column.
    Tortoise keeps it as `_meta`, which its own modules read, and has no public way to the
    fields themselves (`describe()` gives their descriptions only); tests/test_db.py fails
    when Tortoise changes under it."""
    return model._meta


def as_uuid(value: object) -> UUID:
    """A UUID column's value as a plain query returns it: asyncpg gives a UUID (subclass)
    already, SQLite a string."""
    return value if isinstance(value, UUID) else UUID(str(value))


def is_storable(text: str) -> bool:
    return UNSTORABLE.search(text) is None


def is_unavailable(error: BaseException | None) -> bool:
    """Whether `error`, or one it was raised from, says the database cannot be reached."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, _UNAVAILABLE):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def connection() -> BaseDBAsyncClient:
    """The current connection: the open transaction's, if there is one."""
    return get_connection("default")


async def connect_now() -> None:
    """Opens the connection before any job can be cancelled. Tortoise opens a SQLite connection
    on first use, holding the connection's lock while it does; a task cancelled then (a job
    stopped as the server starts) never releases it, and every later query waits forever."""
    await connection().execute_query("SELECT 1")


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset on release, in place of asyncpg's default: that one sends a query (RESET
    ALL, UNLISTEN *, advisory unlocks) on every release, a round trip per statement outside a
    transaction, for session state Belfry never sets. asyncpg still rolls back a transaction
    left open before this runs."""


def placeholders(conn: BaseDBAsyncClient, count: int, start: int = 0) -> list[str]:
    if is_postgres(conn):
        return [f"${i}" for i in range(start + 1, start + count + 1)]
    return ["?"] * count


def batches(conn: BaseDBAsyncClient, values: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """`values` in slices small enough for SQLite's parameter limit; PostgreSQL takes any
    number at once as one array (see is_in)."""
    step = max(1, len(values)) if is_postgres(conn) else size
    for start in range(0, len(values), step):
        yield values[start : start + step]


def is_in(
    conn: BaseDBAsyncClient, column: str, values: Sequence[object], start: int = 0
) -> tuple[str, list[object]]:
    """`column IN (values)` and its parameters. PostgreSQL gets one array parameter, so the
    statement's text (and plan) is the same for any number of values."""
    if is_postgres(conn):
        return f"{column} = ANY(${start + 1})", [list(values)]
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


# The columns a plain read returns, as a TypedDict naming each with its Python type.
R = TypeVar("R", bound=Mapping[str, object])


async def select_rows(
    model: type[Model],
    shape: type[R],
    where: Mapping[str, object],
    also: str = "",
    limit: int | None = None,
) -> list[R]:
    """The rows' columns that `shape` names, as _select_rows reads them."""
    rows = await _select_rows(model, list(shape.__annotations__), where, also, limit)
    return cast(list[R], rows)


async def _select_rows(
    model: type[Model],
    columns: Sequence[str],
    where: Mapping[str, object],
    also: str = "",
    limit: int | None = None,
) -> list[dict[str, object]]:
    """Rows' `columns` as Python values, where each `where` column equals its value (and the
    SQL condition `also` holds), in plain SQL: the reads every publish makes skip the query
    builder, which costs more in Python than the query does in the database."""
    meta = model_meta(model)
    conn = connection()
    marks = placeholders(conn, len(where))
    conditions = [
        f'"{meta.fields_db_projection[name]}" = {mark}'
        for name, mark in zip(where, marks, strict=True)
    ]
    selected = ", ".join(f'"{meta.fields_db_projection[name]}"' for name in columns)
    rows = await conn.execute_query_dict(
        f'SELECT {selected} FROM "{meta.db_table}" '
        f"WHERE {' AND '.join([*conditions, *filter(None, [also])])}"
        + (f" LIMIT {int(limit)}" if limit is not None else ""),
        [meta.fields_map[name].to_db_value(value, model) for name, value in where.items()],
    )
    fields = [(name, meta.fields_db_projection[name], meta.fields_map[name]) for name in columns]
    return [
        {name: field.to_python_value(row[column]) for name, column, field in fields} for row in rows
    ]


async def select_row(
    model: type[Model], shape: type[R], where: Mapping[str, object], also: str = ""
) -> R | None:
    """The first row select_rows finds, or None."""
    rows = await select_rows(model, shape, where, also, limit=1)
    return rows[0] if rows else None


M = TypeVar("M", bound=Model)


async def read_only(model: type[M], where: Mapping[str, object]) -> M | None:
    """The row as a model instance to read, never to save: what get_or_none gives, through
    the same plain read. Its fields are the model's columns (no relations fetched)."""
    rows = await _select_rows(model, list(model_meta(model).fields_db_projection), where, limit=1)
    return model(**rows[0]) if rows else None


# COPY takes two round trips where a prepared INSERT takes one, so the few rows of a publish to
# one user go in by INSERT and the many of a large publish by COPY.
COPY_FROM_ROWS = 16


class Row(Protocol):
    """A row to insert: a dataclass whose fields are columns of its model, by name (such as
    app.models.NotificationRow)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[object]]]


Rows = tuple[type[Model], Sequence[Row]]  # a table's rows, all of one class


def in_one_statement(conn: BaseDBAsyncClient, inserts: Sequence[Rows]) -> bool:
    """Whether insert_then writes `inserts` and runs its query as one statement, which is
    atomic without a transaction: on PostgreSQL, for rows too few to COPY."""
    return is_postgres(conn) and sum(len(rows) for _, rows in inserts) < COPY_FROM_ROWS


async def insert_then(
    inserts: Sequence[Rows], query: str, values: Sequence[object], shape: type[R]
) -> list[R]:
    """Insert each table's rows (bulk_insert), then run `query`, a PostgreSQL `WITH ...`
    statement whose parameters are $1..$n for `values` and whose result has the columns of
    `shape`. A few rows go in by the statement itself, as more of its WITH clauses: one round
    trip instead of one per table."""
    conn = connection()
    if not in_one_statement(conn, inserts):
        for model, rows in inserts:
            await bulk_insert(model, rows)
        return cast(list[R], await conn.execute_query_dict(query, list(values)))
    clauses, parameters = [], list(values)
    for i, (model, rows) in enumerate(inserts):
        if rows:
            sql, more = _insert_values(conn, model, rows, start=len(parameters))
            clauses.append(f"inserted_{i} AS ({sql})")
            parameters += more
    assert query.startswith("WITH ")
    found = await conn.execute_query_dict(
        f"WITH {', '.join([*clauses, query.removeprefix('WITH ')])}", parameters
    )
    return cast(list[R], found)


async def bulk_insert(model: type[Model], rows: Sequence[Row]) -> None:
    """Insert rows of one dataclass, each field a column. Model.bulk_create builds a model
    instance per row first, which dominates large publishes."""
    if not rows:
        return
    conn = connection()
    native = is_postgres(conn)
    table = model_meta(model).db_table
    db_columns, records = _records(model, rows, native=native)
    if native and len(records) >= COPY_FROM_ROWS:
        # COPY skips the per-row statement work of executemany: a third of the time. The
        # connection is the open transaction's, or one of the pool's.
        async with conn.acquire_connection() as raw:
            try:
                await raw.copy_records_to_table(table, records=records, columns=db_columns)
            except asyncpg.IntegrityConstraintViolationError as error:
                raise IntegrityError(error) from error  # as Tortoise's own queries report it
        return
    quoted = ", ".join(f'"{column}"' for column in db_columns)
    marks = ", ".join(placeholders(conn, len(db_columns)))
    await conn.execute_many(
        f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', [list(r) for r in records]
    )


def _insert_values(
    conn: BaseDBAsyncClient, model: type[Model], rows: Sequence[Row], start: int
) -> tuple[str, list[Any]]:
    """`INSERT INTO table (...) VALUES (...), ...` for PostgreSQL, its placeholders numbered
    from start + 1, and its parameters."""
    db_columns, records = _records(model, rows, native=True)
    width = len(db_columns)
    marks = placeholders(conn, width * len(records), start)
    values = ", ".join(f"({', '.join(marks[i : i + width])})" for i in range(0, len(marks), width))
    quoted = ", ".join(f'"{column}"' for column in db_columns)
    sql = f'INSERT INTO "{model_meta(model).db_table}" ({quoted}) VALUES {values}'
    return sql, [value for record in records for value in record]


def _records(
    model: type[Model], rows: Sequence[Row], *, native: bool
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The rows' columns and their values as the driver takes them, row by row."""
    meta = model_meta(model)
    names = [field.name for field in dataclasses.fields(rows[0])]
    columns = [
        _to_db(list(map(attrgetter(name), rows)), meta.fields_map[name], model, native=native)
        for name in names
    ]
    return [meta.fields_db_projection[name] for name in names], list(zip(*columns, strict=True))


def _to_db(
    values: list[Any], field: fields.Field[Any], model: type[Model], *, native: bool
) -> list[Any]:
    """One column's values as the driver takes them."""
    if native and type(field) in _NATIVE_ON_POSTGRES:
        return values
    converted: list[Any] = []
    last: Any = converted  # a sentinel no value can be
    for value in values:
        # Most columns repeat one object across a publish (tenant, category, title, time,
        # JSON data): convert it once.
        if value is not last:
            last, last_db = value, field.to_db_value(value, model)
        converted.append(last_db)
    return converted
