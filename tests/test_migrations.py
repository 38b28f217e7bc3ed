import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import jwt
import pytest
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.cli.cli import tortoise_cli_context
from tortoise.indexes import Index
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from app.auth import authenticate
from app.crypto import SecretBox
from app.db import connection, is_postgres
from app.errors import Unauthenticated
from app.models import Tenant
from app.services.rotation import rotate_secrets
from app.settings import Settings
from tests.conftest import POSTGRES_URL, _pg_admin, unavailable, with_database
from tests.helpers import postgres_session


async def test_migrations_cover_every_model_change(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite://{tmp_path / 'scratch.sqlite3'}")

    async with tortoise_cli_context(settings.tortoise_config()) as ctx:
        assert ctx.apps is not None
        pending = await MigrationAutodetector(ctx.apps, settings.tortoise_apps()).changes()

    assert not pending, (
        "models changed without a migration: run `uv run tortoise makemigrations` and commit it"
    )


async def test_postgres_keeps_room_for_counter_updates(postgres_database: str) -> None:
    async with postgres_session(postgres_database) as conn:
        options = await conn.fetchval(
            "SELECT reloptions FROM pg_class WHERE relname = 'inbox_counters'"
        )

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
    # Partial indexes, made by migrations with plain SQL.
    partial = {
        "ix_notif_purge",
        "ix_delivery_due",
        "ix_delivery_rate",
        "ix_delivery_rate_address",
        "ix_notif_snoozed",
        "ix_notif_expiring",
        "ix_notif_collapse",
        "ix_notif_team",
    }
    assert declared and declared | partial <= present


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of each kind with no tables yet."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'empty.sqlite3'}"
        return
    name = f"belfry_empty_{uuid4().hex[:10]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        unavailable("PostgreSQL", error)
    yield with_database(POSTGRES_URL, name)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def execute(sql: str, *values: object) -> None:
    """`sql` with ? marks, its values as each driver takes them."""
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "postgres":
        for i in range(len(values)):
            sql = sql.replace("?", f"${i + 1}", 1)
    else:  # stored as text, as Tortoise stores them
        values = tuple(str(v) if isinstance(v, UUID | datetime) else v for v in values)
    await conn.execute_query(sql, list(values))


async def test_seen_and_archived_start_from_what_was_read(empty_database: str) -> None:
    # given a database before notifications could be seen, holding one read and one unread
    config = Settings(database_url=empty_database).tortoise_config()
    await migrate(config=config, target="belfry.0008_delivery_origin")
    await Tortoise.init(config=config)
    try:
        tenant, user = uuid4(), uuid4()
        await execute(
            "INSERT INTO tenants (id, name, signing_secret, retention_days, "
            "purge_deleted_after_days, allow_free_categories, created_at) "
            "VALUES (?, 't', 's', 90, 90, false, ?)",
            tenant,
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        await execute(
            "INSERT INTO users (id, tenant_id, external_id, role, created_at, updated_at) "
            "VALUES (?, ?, 'ann', 'MEMBER', ?, ?)",
            user,
            tenant,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        for read_at in (datetime(2026, 1, 2, tzinfo=UTC), None):
            await execute(
                "INSERT INTO notifications (id, tenant_id, recipient_id, category, title, "
                "read_at, created_at) VALUES (?, ?, ?, 'a.b', 't', ?, ?)",
                uuid4(),
                tenant,
                user,
                read_at,
                datetime(2026, 1, 1, tzinfo=UTC),
            )
        await execute(
            "INSERT INTO inbox_counters (id, user_id, category, total, unread) "
            "VALUES (?, ?, 'a.b', 2, 1)",
            uuid4(),
            user,
        )
    finally:
        await Tortoise.close_connections()

    # when the rest of the migrations run
    await migrate(config=config)

    # then the read one was seen when it was read, and the badge counts the unread one unseen
    await Tortoise.init(config=config)
    try:
        conn = Tortoise.get_connection("default")
        rows = await conn.execute_query_dict(
            "SELECT read_at, seen_at, archived_at FROM notifications ORDER BY title"
        )
        counters = await conn.execute_query_dict(
            "SELECT total, unread, unseen, archived, archived_unread FROM inbox_counters"
        )
    finally:
        await Tortoise.close_connections()
    assert sorted((r["seen_at"] == r["read_at"], r["archived_at"]) for r in rows) == [
        (True, None),
        (True, None),
    ]
    assert [dict(c) for c in counters] == [
        {"total": 2, "unread": 1, "unseen": 1, "archived": 0, "archived_unread": 0}
    ]


def bearer(tenant_id: UUID, secret: str, subject: str, **claims: object) -> str:
    expires = datetime.now(UTC) + timedelta(hours=1)
    payload = {"sub": subject, "tid": str(tenant_id), "exp": expires, **claims}
    return "Bearer " + jwt.encode(payload, secret, algorithm="HS256")


async def test_tenants_of_an_older_release_keep_their_tokens_and_erasures(
    empty_database: str,
) -> None:
    # Given a database of the release before signing secrets were sealed: a tenant whose
    # secret is stored in clear, and a user it erased, remembered by a hash keyed with it
    config = Settings(database_url=empty_database).tortoise_config()
    await migrate(config=config, target="belfry.0014_teams")
    tenant, secret = uuid4(), "stored-in-clear-" * 4
    await Tortoise.init(config=config)
    try:
        await execute(
            "INSERT INTO tenants (id, name, signing_secret, retention_days, "
            "purge_deleted_after_days, allow_free_categories, created_at) "
            "VALUES (?, 't', ?, 90, 90, false, ?)",
            tenant,
            secret,
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        await execute(
            "INSERT INTO user_erasures (id, tenant_id, subject_hash, erased_at) "
            "VALUES (?, ?, ?, ?)",
            uuid4(),
            tenant,
            hmac.new(secret.encode(), b"gone", hashlib.sha256).hexdigest(),
            datetime(2026, 1, 1, tzinfo=UTC),
        )
    finally:
        await Tortoise.close_connections()

    # When the rest of the migrations run, and then `belfry rotate-secrets`
    await migrate(config=config)
    box = SecretBox(["the key"])
    EXECUTOR_CACHE.clear()  # this process's other tests may have used the other database
    await Tortoise.init(config=config)
    try:
        before = await authenticate(bearer(tenant, secret, "alice"), box=box)
        with pytest.raises(Unauthenticated, match="erased"):
            await authenticate(bearer(tenant, secret, "gone"), box=box)
        report = await rotate_secrets(box)
        stored = await Tenant.get(id=tenant).values_list("signing_secret", "erasure_key")
        after = await authenticate(bearer(tenant, secret, "alice"), box=box)
        with pytest.raises(Unauthenticated, match="erased"):
            await authenticate(bearer(tenant, secret, "gone"), box=box)
    finally:
        await Tortoise.close_connections()

    # Then its tokens verified before and after, the erased user's stayed refused, and the
    # secret is no longer stored in clear
    assert before is not None and after is not None
    assert report.rotated == 2 and report.unreadable == []
    assert all(value.startswith("enc:v2:") and secret not in value for value in stored)


async def given_a_tenant_and_user(tenant: UUID, user: UUID) -> None:
    await execute(
        "INSERT INTO tenants (id, name, signing_secret, erasure_key, retention_days, "
        "purge_deleted_after_days, allow_free_categories, created_at) "
        "VALUES (?, 't', 's', 'e', 90, 90, false, ?)",
        tenant,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    await execute(
        "INSERT INTO users (id, tenant_id, external_id, role, created_at, updated_at) "
        "VALUES (?, ?, 'ann', 'MEMBER', ?, ?)",
        user,
        tenant,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )


SWITCH_COLUMNS = "in_app, email, sms, webhook, slack, telegram"


async def switches_in(table: str) -> set[tuple[str, str, bool]]:
    """(category, channel, enabled) of every row of a table of channel preferences."""
    rows = await Tortoise.get_connection("default").execute_query_dict(
        f"SELECT category, channel, enabled FROM {table}"
    )
    return {(r["category"], r["channel"], bool(r["enabled"])) for r in rows}


async def test_each_preference_switch_that_was_set_becomes_a_row_of_its_own(
    empty_database: str,
) -> None:
    # Given a database of the release that kept a column per channel: a tenant-wide
    # preference and a user's own, each setting some channels and leaving the rest null, and
    # a user's preference that sets none
    config = Settings(database_url=empty_database).tortoise_config()
    await migrate(config=config, target="belfry.0015_signing_secret_rotation")
    tenant, user = uuid4(), uuid4()
    await Tortoise.init(config=config)
    try:
        await given_a_tenant_and_user(tenant, user)
        when = datetime(2026, 1, 2, tzinfo=UTC)
        await execute(
            f"INSERT INTO tenant_preferences (id, tenant_id, category, {SWITCH_COLUMNS}, "
            "updated_at) VALUES (?, ?, 'a.b', NULL, false, true, NULL, NULL, NULL, ?)",
            uuid4(),
            tenant,
            when,
        )
        for category, switches in (("a.b", "true, NULL, NULL, NULL, false, NULL"), ("c.d", "")):
            values = switches or "NULL, NULL, NULL, NULL, NULL, NULL"
            await execute(
                f"INSERT INTO user_preferences (id, user_id, category, {SWITCH_COLUMNS}, "
                f"updated_at) VALUES (?, ?, '{category}', {values}, ?)",
                uuid4(),
                user,
                when,
            )
    finally:
        await Tortoise.close_connections()

    # When the rest of the migrations run
    await migrate(config=config)

    # Then every switch set to true or false is a row, and none stands for the nulls
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=config)
    try:
        tenant_wide = await switches_in("tenant_channel_preferences")
        personal = await switches_in("user_channel_preferences")
    finally:
        await Tortoise.close_connections()
    assert tenant_wide == {("a.b", "EMAIL", False), ("a.b", "SMS", True)}
    assert personal == {("a.b", "IN_APP", True), ("a.b", "SLACK", False)}


async def test_going_back_puts_each_categorys_switches_in_their_columns_again(
    empty_database: str,
) -> None:
    # Given a database with a user's preferences stored a row per channel
    config = Settings(database_url=empty_database).tortoise_config()
    await migrate(config=config)
    tenant, user = uuid4(), uuid4()
    await Tortoise.init(config=config)
    try:
        await given_a_tenant_and_user(tenant, user)
        for channel, enabled in (("EMAIL", False), ("TELEGRAM", True)):
            await execute(
                "INSERT INTO user_channel_preferences (id, user_id, category, channel, enabled, "
                "updated_at) VALUES (?, ?, 'a.b', ?, ?, ?)",
                uuid4(),
                user,
                channel,
                enabled,
                datetime(2026, 1, 2, tzinfo=UTC),
            )
    finally:
        await Tortoise.close_connections()

    # When the migration that made those rows is undone
    await migrate(config=config, target="belfry.0015_signing_secret_rotation")

    # Then the category's row holds them in its columns, the other channels unset
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=config)
    try:
        rows = await Tortoise.get_connection("default").execute_query_dict(
            f"SELECT category, {SWITCH_COLUMNS} FROM user_preferences"
        )
    finally:
        await Tortoise.close_connections()
    [row] = rows
    assert {k: v if v is None or k == "category" else bool(v) for k, v in row.items()} == {
        "category": "a.b",
        "in_app": None,
        "email": False,
        "sms": None,
        "webhook": None,
        "slack": None,
        "telegram": True,
    }
