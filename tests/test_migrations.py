from pathlib import Path

import asyncpg
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.cli.cli import tortoise_cli_context
from tortoise.indexes import Index
from tortoise.migrations.autodetector import MigrationAutodetector

from app.db import connection, is_postgres
from app.settings import Settings


async def test_migrations_cover_every_model_change(tmp_path: Path) -> None:
    config = Settings(database_url=f"sqlite://{tmp_path / 'scratch.sqlite3'}").tortoise_config()

    async with tortoise_cli_context(config) as ctx:
        assert ctx.apps is not None
        pending = await MigrationAutodetector(ctx.apps, config["apps"]).changes()

    assert not pending, (
        "models changed without a migration: run `uv run tortoise makemigrations` and commit it"
    )


async def test_postgres_keeps_room_for_counter_updates(postgres_database: str) -> None:
    conn = await asyncpg.connect(postgres_database.replace("postgres://", "postgresql://", 1))
    try:
        options = await conn.fetchval(
            "SELECT reloptions FROM pg_class WHERE relname = 'inbox_counters'"
        )
    finally:
        await conn.close()

    assert options == ["fillfactor=50"]


def declared_references() -> set[tuple[str, str, str]]:
    """(table, column, referenced table) for every foreign key the models declare."""
    found = set()
    for model in Tortoise.apps["belfry"].values():
        for name in model._meta.fk_fields:
            field = model._meta.fields_map[name]
            found.add(
                (
                    model._meta.db_table,
                    field.source_field or f"{name}_id",
                    field.related_model._meta.db_table,
                )
            )
    return found


async def enforced_references() -> set[tuple[str, str, str]]:
    conn = connection()
    if is_postgres(conn):
        rows = await conn.execute_query_dict(
            "SELECT c.conrelid::regclass::text AS tbl, a.attname AS col, "
            "c.confrelid::regclass::text AS ref FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.convalidated"
        )
        return {(r["tbl"], r["col"], r["ref"]) for r in rows}
    found = set()
    for model in Tortoise.apps["belfry"].values():
        table = model._meta.db_table
        for row in await conn.execute_query_dict(f"PRAGMA foreign_key_list('{table}')"):
            found.add((table, row["from"], row["table"]))
    return found


async def test_every_declared_foreign_key_is_enforced(app: Starlette) -> None:
    declared = declared_references()

    assert ("deliveries", "recipient_id", "users") in declared
    assert declared <= await enforced_references()


async def test_every_declared_and_partial_index_exists(app: Starlette) -> None:
    conn = connection()
    if is_postgres(conn):
        query = "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    present = {row["name"] for row in await conn.execute_query_dict(query)}

    declared = {
        index.name
        for model in Tortoise.apps["belfry"].values()
        for index in model._meta.indexes
        if isinstance(index, Index)
    }
    # Partial indexes, made by migrations 0002 and 0004.
    partial = {"ix_notif_purge", "ix_delivery_due", "ix_delivery_rate", "ix_delivery_rate_address"}
    assert declared and declared | partial <= present
