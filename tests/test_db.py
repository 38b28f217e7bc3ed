"""Bulk inserts and id lookups, on both databases."""

from datetime import UTC, datetime

from starlette.applications import Starlette

from app.db import as_uuid, batches, bulk_insert, connection, is_in, new_ids
from app.models import Channel, Delivery, DeliveryStatus, Notification
from tests.helpers import make_tenant, store_user


def test_new_ids_are_distinct_random_uuids() -> None:
    ids = new_ids(1000)

    assert len(set(ids)) == 1000
    assert {i.version for i in ids} == {4}


async def test_bulk_insert_writes_every_kind_of_value(app: Starlette) -> None:
    tenant = await make_tenant()
    user = await store_user(tenant.tenant_id, "ann")
    now = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
    data = {"nested": [1, 2**70, "x"]}
    notification_ids = new_ids(2)
    await bulk_insert(
        Notification,
        [
            {
                "id": nid,
                "tenant_id": tenant.tenant_id,
                "recipient_id": user.id,
                "category": "a.b",
                "title": f"t{i}",
                "data": data,
                "created_at": now,
            }
            for i, nid in enumerate(notification_ids)
        ],
    )
    await bulk_insert(
        Delivery,
        [
            {
                "id": new_ids(1)[0],
                "tenant_id": tenant.tenant_id,
                "notification_id": nid,
                "recipient_id": user.id,
                "channel": Channel.EMAIL,
                "category": "a.b",
                "status": DeliveryStatus.QUEUED,
                "attempt_count": 0,
                "created_at": now,
                "snapshot": {"to": "ann@example.com"},
            }
            for nid in notification_ids
        ],
    )

    stored = await Notification.filter(id__in=notification_ids).order_by("title")
    assert [(n.title, n.data, n.created_at) for n in stored] == [
        ("t0", data, now),
        ("t1", data, now),
    ]
    deliveries = await Delivery.filter(notification_id__in=notification_ids)
    assert {(d.channel, d.status, d.snapshot["to"]) for d in deliveries} == {
        (Channel.EMAIL, DeliveryStatus.QUEUED, "ann@example.com")
    }


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
