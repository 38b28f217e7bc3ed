"""Erasing a user: what goes, what stays, and every process letting go of them."""

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from uuid import UUID

import pytest
from starlette.applications import Starlette
from tortoise.transactions import in_transaction

from app.auth import signing_keys
from app.live.credential_changes import UserErased
from app.live.publish import publish_credential_change
from app.models import (
    Channel,
    Delivery,
    Event,
    InboxCounter,
    Notification,
    TeamMember,
    User,
    UserChannelPreference,
    UserErasure,
)
from app.services import audience, events, preferences, publishing, teams, users
from tests.helpers import make_tenant, secret_box, store_user


async def publish_to(tenant_id: str, external_id: str, title: str = "hello") -> list[UUID]:
    draft = publishing.NotificationDraft(category="billing.low_balance", title=title)
    result = await publishing.publish_notification(
        tenant_id=UUID(tenant_id), recipients=[external_id], draft=draft
    )
    return result.notification_ids


async def act_in_an_event(tenant_id: str, external_id: str) -> UUID:
    await events.publish_event(
        tenant_id=UUID(tenant_id),
        type="auth.login",
        payload=None,
        recipients=None,
        actor=external_id,
        idempotency_key=None,
    )
    return (await Event.get(tenant_id=tenant_id, actor=external_id)).id


async def given_a_user_with_everything(tenant_id: str, external_id: str) -> UUID:
    """Two notifications (with their deliveries and counters), a personal preference, a team
    membership, and an event the user acted in."""
    user = await store_user(tenant_id, external_id)
    await teams.upsert(tenant_id=UUID(tenant_id), key="ops", name="Ops")
    await teams.add_members(tenant_id=UUID(tenant_id), key="ops", external_ids=[external_id])
    await publish_to(tenant_id, external_id, "one")
    await publish_to(tenant_id, external_id, "two")
    await preferences.update_user(
        tenant_id=UUID(tenant_id),
        user_id=user.id,
        category="billing.low_balance",
        changes=[preferences.Change(Channel.EMAIL, False)],
    )
    await act_in_an_event(tenant_id, external_id)
    return user.id


async def held_for(user_id: UUID) -> dict[str, int]:
    return {
        "users": await User.filter(id=user_id).count(),
        "notifications": await Notification.filter(recipient_id=user_id).count(),
        "deliveries": await Delivery.filter(recipient_id=user_id).count(),
        "preferences": await UserChannelPreference.filter(user_id=user_id).count(),
        "counters": await InboxCounter.filter(user_id=user_id).count(),
        "team memberships": await TeamMember.filter(user_id=user_id).count(),
    }


async def erase(tenant_id: str, external_id: str) -> bool:
    return await users.erase_user(
        tenant_id=UUID(tenant_id), external_id=external_id, box=secret_box()
    )


async def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_erase_removes_everything_the_user_had(app: Starlette) -> None:
    tenant = await make_tenant()
    alice = await given_a_user_with_everything(tenant.tenant_id, "alice")
    assert all(await held_for(alice)), await held_for(alice)

    erased = await erase(tenant.tenant_id, "alice")

    assert erased is True
    assert set((await held_for(alice)).values()) == {0}
    assert not await Event.filter(tenant_id=tenant.tenant_id, actor="alice").exists()


async def test_erase_keeps_the_events_without_their_actor(app: Starlette) -> None:
    tenant = await make_tenant()
    await store_user(tenant.tenant_id, "alice")
    event_id = await act_in_an_event(tenant.tenant_id, "alice")

    await erase(tenant.tenant_id, "alice")

    event = await Event.get(id=event_id)
    assert (event.type, event.actor) == ("auth.login", None)


async def test_erase_answers_false_when_there_is_no_such_user(app: Starlette) -> None:
    tenant = await make_tenant()
    await store_user(tenant.tenant_id, "alice")

    first, again, unknown = (
        await erase(tenant.tenant_id, "alice"),
        await erase(tenant.tenant_id, "alice"),
        await erase(tenant.tenant_id, "nobody"),
    )

    assert (first, again, unknown) == (True, False, False)


async def test_erase_leaves_other_users_and_other_tenants_alone(app: Starlette) -> None:
    ours, theirs = await make_tenant("Ours"), await make_tenant("Theirs")
    await given_a_user_with_everything(ours.tenant_id, "alice")
    bob = await given_a_user_with_everything(ours.tenant_id, "bob")
    their_alice = await given_a_user_with_everything(theirs.tenant_id, "alice")
    before = {user_id: await held_for(user_id) for user_id in (bob, their_alice)}

    await erase(ours.tenant_id, "alice")

    assert {user_id: await held_for(user_id) for user_id in (bob, their_alice)} == before
    assert await Event.filter(tenant_id=theirs.tenant_id, actor="alice").exists()


async def test_erase_remembers_the_subject_only_as_a_keyed_hash(app: Starlette) -> None:
    tenant = await make_tenant()
    await store_user(tenant.tenant_id, "alice@example.com")

    await erase(tenant.tenant_id, "alice@example.com")

    [erasure] = await UserErasure.filter(tenant_id=tenant.tenant_id)
    keys = await signing_keys(secret_box(), UUID(tenant.tenant_id))
    assert keys is not None
    expected = hmac.new(keys.erasure_key.encode(), b"alice@example.com", hashlib.sha256)
    assert erasure.subject_hash == expected.hexdigest()
    assert erasure.subject_hash != hashlib.sha256(b"alice@example.com").hexdigest()


async def test_erasing_a_re_created_user_moves_the_erasure_forward(app: Starlette) -> None:
    tenant = await make_tenant()
    await store_user(tenant.tenant_id, "alice")
    await erase(tenant.tenant_id, "alice")
    first = (await UserErasure.get(tenant_id=tenant.tenant_id)).erased_at
    await publish_to(tenant.tenant_id, "alice")

    again = await erase(tenant.tenant_id, "alice")

    [erasure] = await UserErasure.filter(tenant_id=tenant.tenant_id)
    assert again is True and erasure.erased_at > first


async def test_a_publish_after_the_erase_starts_a_fresh_user(app: Starlette) -> None:
    tenant = await make_tenant()
    old = await given_a_user_with_everything(tenant.tenant_id, "alice")
    await publish_to(tenant.tenant_id, "alice")  # from the recipients cache now
    await erase(tenant.tenant_id, "alice")

    [nid] = await publish_to(tenant.tenant_id, "alice", "after")

    new = await User.get(tenant_id=tenant.tenant_id, external_id="alice")
    assert new.id != old
    assert await Notification.filter(recipient_id=new.id).values_list("id", flat=True) == [nid]
    assert [counter.total for counter in await InboxCounter.filter(user_id=new.id)] == [1]
    assert not await UserChannelPreference.filter(user_id=new.id).exists()


class RolledBack(Exception):
    pass


STRICT_REFERENCES = {  # (table, column): referenced table; every reference to a user's rows
    ("notifications", "recipient_id"): "users",
    ("deliveries", "recipient_id"): "users",
    ("deliveries", "notification_id"): "notifications",
    ("inbox_counters", "user_id"): "users",
    ("user_channel_preferences", "user_id"): "users",
    ("team_members", "user_id"): "users",
}


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_erase_holds_with_every_reference_checked_and_none_cascading(
    app: Starlette,
) -> None:
    tenant = await make_tenant()
    alice = await given_a_user_with_everything(tenant.tenant_id, "alice")
    strict = "; ".join(
        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_fkey; "
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey FOREIGN KEY ({column}) "
        f"REFERENCES {target} (id)"
        for (table, column), target in STRICT_REFERENCES.items()
    )

    # PostgreSQL's DDL is transactional: the shared test database keeps its own constraints.
    with pytest.raises(RolledBack):
        async with in_transaction() as conn:
            await conn.execute_script(strict)
            erased = await erase(tenant.tenant_id, "alice")
            left = await held_for(alice)
            raise RolledBack

    assert erased is True and set(left.values()) == {0}


async def test_an_erase_through_another_process_leaves_the_recipients_cache(
    app: Starlette,
) -> None:
    tenant = await make_tenant()
    alice = await store_user(tenant.tenant_id, "alice")
    await publish_to(tenant.tenant_id, "alice")
    cached = audience.known_users.get(UUID(tenant.tenant_id), "alice")

    # Another replica's erase, as the hub brings it: this process's database work is not run.
    erased = UserErased(UUID(tenant.tenant_id), alice.id, "alice")
    await publish_credential_change(erased)

    assert cached == alice.id
    await wait_until(lambda: audience.known_users.get(UUID(tenant.tenant_id), "alice") is None)


async def test_a_publish_to_a_user_erased_behind_the_cache_writes_a_fresh_user(
    app: Starlette,
) -> None:
    tenant = await make_tenant()
    alice = await store_user(tenant.tenant_id, "alice")
    # Erased through a replica whose message this process missed.
    audience.known_users.add(UUID(tenant.tenant_id), {"alice": alice.id})
    await User.filter(id=alice.id).delete()

    [nid] = await publish_to(tenant.tenant_id, "alice")

    notification = await Notification.get(id=nid)
    assert notification.recipient_id != alice.id
    assert await User.exists(id=notification.recipient_id, external_id="alice")
