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


async def test_postgres_is_tuned_for_the_publish_path(postgres_database: str) -> None:
    conn = await asyncpg.connect(postgres_database.replace("postgres://", "postgresql://", 1))
    try:
        checks = await conn.fetch(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid IN ('notifications'::regclass, 'deliveries'::regclass)"
        )
        options = await conn.fetchval(
            "SELECT reloptions FROM pg_class WHERE relname = 'inbox_counters'"
        )
    finally:
        await conn.close()

    assert [row["conname"] for row in checks] == ["deliveries_notification_id_fkey"]
    assert options == ["fillfactor=50"]


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
