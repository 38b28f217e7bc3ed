"""Bulk inserts and id lookups, on both databases; nothing lost when the database goes away."""

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.db import (
    COPY_FROM_ROWS,
    Rows,
    as_uuid,
    batches,
    bulk_insert,
    connection,
    in_one_statement,
    insert_then,
    is_in,
    is_storable,
    model_meta,
    new_ids,
)
from app.encoding import JsonValue
from app.models import (
    Channel,
    Delivery,
    DeliveryRow,
    DeliveryStatus,
    Notification,
    NotificationRow,
    Snapshot,
)
from app.settings import Settings
from tests.conftest import serving
from tests.helpers import PUBLISH, TenantAccess, make_tenant, store_user
from tests.servers import proxying


def test_new_ids_are_distinct_time_ordered_uuids() -> None:
    # given the time before and after a batch of ids is made
    before_ms = time.time_ns() // 1_000_000
    ids = new_ids(1000)
    after_ms = time.time_ns() // 1_000_000

    # then they are distinct version 7 UUIDs (RFC 9562) whose leading 48 bits are that time
    assert len(set(ids)) == 1000
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
    assert all(before_ms <= i.int >> 80 <= after_ms for i in ids)
    # and the rest of each is random: no two share their 74 random bits
    assert len({i.int & ((1 << 80) - 1) for i in ids}) == 1000


def test_text_with_nul_or_an_unpaired_surrogate_cannot_be_stored() -> None:
    assert is_storable("plain, émoji 🔔")
    assert not is_storable("a\x00b") and not is_storable("a\ud800b")


def test_a_models_meta_names_its_table_and_fields() -> None:
    # (Tortoise keeps it private: this fails when Tortoise changes it under app.db.)
    meta = model_meta(Notification)

    assert meta.db_table == "notifications"
    assert meta.fields_db_projection["created_at"] == "created_at"
    assert isinstance(meta.fields_map["created_at"], fields.DatetimeField)
    assert "recipient" in meta.fk_fields


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_many_rows_are_copied_outside_a_transaction_too(app: Starlette) -> None:
    tenant = await make_tenant()
    user = await store_user(tenant.tenant_id, "ann")

    await bulk_insert(Notification, notification_rows(tenant.tenant_id, user.id, COPY_FROM_ROWS))

    assert await Notification.filter(tenant_id=tenant.tenant_id).count() == COPY_FROM_ROWS


async def test_bulk_insert_writes_every_kind_of_value(app: Starlette) -> None:
    # Given rows of two tables holding JSON, a typed JSON column, enums and times
    tenant = await make_tenant()
    user = await store_user(tenant.tenant_id, "ann")
    now = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
    data: JsonValue = {"nested": [1, 2**70, "x"]}
    snapshot = Snapshot(title="Sent as it was", data=data, tags=["x"])
    notification_ids = new_ids(2)
    notifications = [
        NotificationRow(
            id=nid,
            tenant_id=uuid.UUID(tenant.tenant_id),
            recipient_id=user.id,
            category="a.b",
            title=f"t{i}",
            data=data,
            created_at=now,
        )
        for i, nid in enumerate(notification_ids)
    ]
    deliveries = [
        DeliveryRow(
            id=new_ids(1)[0],
            tenant_id=uuid.UUID(tenant.tenant_id),
            notification_id=nid,
            recipient_id=user.id,
            channel=Channel.EMAIL,
            category="a.b",
            status=DeliveryStatus.QUEUED,
            created_at=now,
            snapshot=snapshot,
        )
        for nid in notification_ids
    ]

    # When they are inserted
    await bulk_insert(Notification, notifications)
    await bulk_insert(Delivery, deliveries)

    # Then each value reads back as it was written
    stored = await Notification.filter(id__in=notification_ids).order_by("title")
    assert [(n.title, n.data, n.created_at) for n in stored] == [
        ("t0", data, now),
        ("t1", data, now),
    ]
    found = await Delivery.filter(notification_id__in=notification_ids)
    assert [(d.channel, d.status, d.snapshot) for d in found] == 2 * [
        (Channel.EMAIL, DeliveryStatus.QUEUED, snapshot)
    ]


def notification_rows(tenant_id: str, user_id: uuid.UUID, count: int) -> list[NotificationRow]:
    now = datetime.now(UTC)
    return [
        NotificationRow(
            id=nid,
            tenant_id=uuid.UUID(tenant_id),
            recipient_id=user_id,
            category="a.b",
            title="t",
            created_at=now,
        )
        for nid in new_ids(count)
    ]


def orphan_deliveries(tenant_id: str) -> list[DeliveryRow]:
    """A delivery of a notification that does not exist: its foreign key fails."""
    return [
        DeliveryRow(
            id=new_ids(1)[0],
            tenant_id=uuid.UUID(tenant_id),
            notification_id=new_ids(1)[0],
            channel=Channel.IN_APP,
            category="a.b",
            status=DeliveryStatus.SENT,
            attempt_count=1,
            created_at=datetime.now(UTC),
        )
    ]


class Counted(TypedDict):
    n: int


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite: row by row
@pytest.mark.parametrize("count", [1, COPY_FROM_ROWS], ids=["one-statement", "copy"])
async def test_insert_then_writes_all_or_nothing(app: Starlette, count: int) -> None:
    # given rows for two tables, the second of which breaks a foreign key
    tenant = await make_tenant()
    user = await store_user(tenant.tenant_id, "ann")
    rows = notification_rows(tenant.tenant_id, user.id, count)
    inserts: list[Rows] = [(Notification, rows), (Delivery, orphan_deliveries(tenant.tenant_id))]
    alone = in_one_statement(connection(), inserts)
    assert alone == (count < COPY_FROM_ROWS)

    # when they are inserted, the single statement alone, the COPY in a transaction
    with pytest.raises(IntegrityError):
        if alone:
            await insert_then(inserts, "WITH x AS (SELECT 1) SELECT * FROM x", [], Counted)
        else:
            async with in_transaction():
                await insert_then(inserts, "WITH x AS (SELECT 1) SELECT * FROM x", [], Counted)

    # then none of the first table's rows stayed
    assert await Notification.filter(tenant_id=tenant.tenant_id).count() == 0

    # and without the broken row, every row is written and the query runs after them
    found = await insert_then(
        inserts[:1],
        "WITH x AS (SELECT count(*) AS n FROM notifications WHERE tenant_id = $1) SELECT n FROM x",
        [tenant.tenant_id],
        Counted,
    )
    assert await Notification.filter(tenant_id=tenant.tenant_id).count() == count
    assert found[0]["n"] == (0 if alone else count)  # one statement: one snapshot, taken before


async def test_is_in_matches_lists_longer_than_one_sqlite_statement_takes(app: Starlette) -> None:
    tenant = await make_tenant()
    users = [await store_user(tenant.tenant_id, f"u{i}") for i in range(3)]
    wanted = [str(u.id) for u in users[:2]] + [str(i) for i in new_ids(1200)]
    conn = connection()

    found = []
    for batch in batches(conn, wanted):
        condition, values = is_in(conn, "id", batch)
        rows = await conn.execute_query_dict(f"SELECT id FROM users WHERE {condition}", values)
        found += [as_uuid(row["id"]) for row in rows]

    assert sorted(found) == sorted(u.id for u in users[:2])


async def test_a_database_that_goes_away_under_keyed_publishes_loses_and_doubles_nothing(
    postgres_database: str, tmp_path: Path
) -> None:
    # given a server whose PostgreSQL is reached through a connection that can be cut
    database = urlsplit(postgres_database)
    async with proxying(database.hostname or "127.0.0.1", database.port or 5432) as proxy:
        via_proxy = database._replace(netloc=f"{database.username}@127.0.0.1:{proxy.port}")
        settings = Settings(
            database_url=via_proxy.geturl(), data_dir=tmp_path, gc_tuning=False, embedded_jobs=False
        )
        async with serving(settings) as server, httpx.AsyncClient(base_url=server.http_url) as http:
            tenant = await make_tenant()

            # when a stream of keyed publishes meets the database going away and coming back
            statuses: dict[str, list[int]] = {}
            for n in range(30):
                if n == 10:
                    await proxy.cut()
                if n == 20:
                    await proxy.start()
                key = f"evt-{n}"
                statuses[key] = [await keyed_publish(http, tenant, key)]
            # and every refused one is sent again, as a producer retries
            for key, seen in statuses.items():
                while seen[-1] != 200:
                    seen.append(await keyed_publish(http, tenant, key))

            # then the outage was answered 503, and each key holds one notification per recipient
            assert {seen[0] for key, seen in statuses.items() if 10 <= int(key[4:]) < 20} == {503}
            stored = Notification.filter(tenant_id=tenant.tenant_id)
            per_key = [str(k) for k in await stored.values_list("idempotency_key", flat=True)]
    assert sorted(per_key) == sorted(key for key in statuses for _ in RECIPIENTS)


RECIPIENTS = ["ann", "bob", "cy"]


async def keyed_publish(http: httpx.AsyncClient, tenant: TenantAccess, key: str) -> int:
    variables = {
        "input": {
            "recipients": RECIPIENTS,
            "category": "a.b",
            "title": "t",
            "idempotencyKey": key,
        }
    }
    response = await http.post(
        "/graphql",
        json={"query": PUBLISH, "variables": variables},
        headers={"authorization": f"Bearer {tenant.api_key}"},
    )
    if response.status_code == 200:
        assert "errors" not in response.json(), response.json()
    else:
        assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    return response.status_code
