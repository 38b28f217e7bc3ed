"""The few statements Tortoise's query builder cannot express, written once for both dialects."""

from typing import Any

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError
from tortoise.models import Model


def connection() -> BaseDBAsyncClient:
    """The current connection: the open transaction's, if there is one."""
    return get_connection("default")


def placeholders(conn: BaseDBAsyncClient, count: int, start: int = 0) -> list[str]:
    if conn.capabilities.dialect == "postgres":
        return [f"${i}" for i in range(start + 1, start + count + 1)]
    return ["?"] * count


async def bulk_insert(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows given as {field: value} with one prepared statement. Model.bulk_create
    builds a model instance per row first, which dominates large publishes."""
    if not rows:
        return
    meta = model._meta
    names = list(rows[0])
    fields = [meta.fields_map[name] for name in names]
    conn = connection()
    columns = ", ".join(f'"{meta.fields_db_projection[name]}"' for name in names)
    sql = (
        f'INSERT INTO "{meta.db_table}" ({columns}) '
        f"VALUES ({', '.join(placeholders(conn, len(names)))})"
    )
    converted: dict[tuple[int, Any], Any] = {}

    def to_db(column: int, value: Any) -> Any:
        # Most columns repeat one value across a publish (tenant, category, title, time):
        # convert and validate each distinct value once.
        try:
            key = (column, value)
            if key not in converted:
                converted[key] = fields[column].to_db_value(value, model)
            return converted[key]
        except TypeError:  # unhashable (JSON data)
            return fields[column].to_db_value(value, model)

    values = [[to_db(i, row[name]) for i, name in enumerate(names)] for row in rows]
    raw: Any = getattr(conn, "_connection", None)  # asyncpg's, inside a transaction
    if conn.capabilities.dialect == "postgres" and hasattr(raw, "copy_records_to_table"):
        # COPY skips the per-row statement work of executemany: a third of the time.
        try:
            await raw.copy_records_to_table(
                meta.db_table,
                records=[tuple(v) for v in values],
                columns=[meta.fields_db_projection[name] for name in names],
            )
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityError(error) from error  # as Tortoise's own queries report it
        return
    await conn.execute_many(sql, values)
