"""Inbox counters: kept per (user, category), summed per user."""

from starlette.applications import Starlette

from app.models import InboxCounter
from app.services import counters
from app.services.counters import Badges, Counts
from tests.helpers import make_tenant, store_user


async def test_counting_new_notifications_returns_each_users_badges(app: Starlette) -> None:
    tenant = await make_tenant()
    ann, bob = await store_user(tenant.tenant_id, "ann"), await store_user(tenant.tenant_id, "bob")
    await counters.add({(ann.id, "x.y"): Counts(total=3, unread=2, unseen=1, archived=4)})

    first = await counters.count_new([ann.id, bob.id], "a.b")
    second = await counters.count_new([ann.id], "a.b")

    assert first == {ann.id: Badges(3, 2), bob.id: Badges(1, 1)}
    assert second == {ann.id: Badges(4, 3)}
    rows = await InboxCounter.filter(user_id=ann.id).order_by("category")
    assert [(r.category, r.total, r.unread, r.unseen, r.archived) for r in rows] == [
        ("a.b", 2, 2, 2, 0),
        ("x.y", 3, 2, 1, 4),
    ]
