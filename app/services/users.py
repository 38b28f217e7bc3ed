"""The tenant's users, named by the host application's own external ids."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from app import pubsub
from app.auth import mint_user_token, subject_hash
from app.db import as_uuid
from app.errors import BadUserInput, NotFound
from app.models import (
    Delivery,
    Event,
    InboxCounter,
    Notification,
    Role,
    Tenant,
    User,
    UserErasure,
    UserPreference,
)
from app.services import publishing
from app.services.validation import check_external_id, check_length

logger = logging.getLogger("belfry.users")

MIN_TOKEN_TTL = 60
LOOKUP_BATCH = 500


@dataclass(slots=True)
class UserFields:
    """What `upsertUser` may set; None means 'leave unchanged'."""

    email: str | None = None
    phone: str | None = None
    name: str | None = None
    role: Role | None = None
    locale: str | None = None
    timezone: str | None = None


def _validated(fields: UserFields) -> dict[str, Any]:
    changes = {k: v for k, v in asdict(fields).items() if v is not None}
    if "email" in changes:
        email = changes["email"].strip()
        if email and ("@" not in email or len(email) > 320 or " " in email):
            raise BadUserInput("email is not a valid address", field="email")
        changes["email"] = email or None
    if "phone" in changes:
        phone = changes["phone"].strip()
        if phone and not (phone.lstrip("+").isdigit() and 4 <= len(phone) <= 32):
            raise BadUserInput("phone must be digits with an optional leading +", field="phone")
        changes["phone"] = phone or None
    for field, limit in (("name", 200), ("locale", 35), ("timezone", 64)):
        if field in changes:
            check_length(field, changes[field], limit)
    return changes


async def upsert_user(*, tenant_id: UUID, external_id: str, fields: UserFields) -> User:
    check_external_id(external_id)
    changes = _validated(fields)
    user, created = await User.get_or_create(
        tenant_id=tenant_id, external_id=external_id, defaults=changes
    )
    if not created and changes:
        await User.filter(id=user.id).update(**changes)
        await user.refresh_from_db()
    return user


async def user_exists(*, tenant_id: UUID, user_id: UUID) -> bool:
    return await User.exists(tenant_id=tenant_id, id=user_id)


async def get_user(*, tenant_id: UUID, user_id: UUID) -> User:
    user = await User.get_or_none(tenant_id=tenant_id, id=user_id)
    if user is None:
        raise NotFound("User not found")
    return user


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


async def issue_user_token(
    *, tenant_id: UUID, external_id: str, ttl_seconds: int, max_ttl_seconds: int
) -> IssuedToken:
    if not MIN_TOKEN_TTL <= ttl_seconds <= max_ttl_seconds:
        raise BadUserInput(
            f"ttlSeconds must be between {MIN_TOKEN_TTL} and {max_ttl_seconds}",
            field="ttlSeconds",
        )
    if not await User.exists(tenant_id=tenant_id, external_id=external_id):
        raise NotFound(f"No user with externalId {external_id!r}; upsert the user first")
    tenant = await Tenant.get(id=tenant_id)
    token, expires_at = mint_user_token(
        tenant_id=tenant_id,
        external_id=external_id,
        signing_secret=tenant.signing_secret,
        ttl=timedelta(seconds=ttl_seconds),
    )
    return IssuedToken(token=token, expires_at=expires_at)


async def admin_external_ids(*, tenant_id: UUID) -> list[str]:
    """The tenant's owners and admins, who hear of key changes and get its tests."""
    ids = await User.filter(tenant_id=tenant_id, role__in=[Role.OWNER, Role.ADMIN]).values_list(
        "external_id", flat=True
    )
    return [str(external_id) for external_id in ids]


# --- erasure -------------------------------------------------------------------------------


async def erase_user(*, tenant_id: UUID, external_id: str) -> bool:
    """A GDPR erasure, in one transaction: the user's notifications and deliveries,
    preferences, inbox counters, their external id as the actor of the tenant's events, and
    the user. Tokens issued before it are refused from then on, also once a publish has made
    a new user with the same external id, and every process lets go of the user. False when
    there was no such user; events still lose that actor and earlier tokens are refused."""
    check_external_id(external_id)
    async with in_transaction():
        user_id = await _lock_user(tenant_id, external_id)
        if user_id is not None:
            await _delete_user(user_id)
        await Event.filter(tenant_id=tenant_id, actor=external_id).update(actor=None)
        await _record_erasure(tenant_id, external_id)
    publishing.forget_user(tenant_id, external_id)  # this process now, others by the hub
    if user_id is None:
        return False
    await pubsub.publish_user_erased(pubsub.UserErased(tenant_id, user_id, external_id))
    return True


async def _lock_user(tenant_id: UUID, external_id: str) -> UUID | None:
    """Locked on PostgreSQL, so a concurrent publish to the user waits for the erase, then
    fails its reference check and retries with a new user."""
    user = (
        await User.filter(tenant_id=tenant_id, external_id=external_id)
        .select_for_update()
        .only("id")
        .first()
    )
    return None if user is None else user.id


async def _delete_user(user_id: UUID) -> None:
    """Children first, so that every declared foreign key holds whether it cascades or not."""
    theirs = Notification.filter(recipient_id=user_id)
    of_theirs = Q(notification_id__in=Subquery(theirs.values("id")))
    await Delivery.filter(Q(recipient_id=user_id) | of_theirs).delete()
    await theirs.delete()
    await InboxCounter.filter(user_id=user_id).delete()
    await UserPreference.filter(user_id=user_id).delete()
    await User.filter(id=user_id).delete()


async def _record_erasure(tenant_id: UUID, external_id: str) -> None:
    """The time is taken last: a token minted while the erase ran is refused too."""
    tenant = await Tenant.get(id=tenant_id)
    erasure = UserErasure(
        id=uuid4(),
        tenant_id=tenant_id,
        subject_hash=subject_hash(external_id, tenant.signing_secret),
        erased_at=datetime.now(UTC),
    )
    await UserErasure.bulk_create(
        [erasure], on_conflict=["tenant_id", "subject_hash"], update_fields=["erased_at"]
    )


class UserHolder(Protocol):
    """What a process keeps open for users (a server's websockets), let go of on erasure."""

    def held_users(self) -> list[tuple[UUID, UUID]]: ...  # (tenant id, user id)

    async def release(self, tenant_id: UUID, user_id: UUID) -> None: ...


@contextlib.asynccontextmanager
async def following_erasures(holder: UserHolder | None = None) -> AsyncIterator[None]:
    """While the block runs, an erase through any process reaches this one: the user leaves the
    recipients cache and `holder`. Subscribed before the block starts, so nothing erased once
    the process is up is missed."""
    topic, decode = pubsub.USERS_TOPIC, pubsub.decode_user_erased
    async with pubsub.hub().subscription(topic, "all", decode=decode) as erasures:
        task = asyncio.create_task(_follow(erasures, holder), name="erasures")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _follow(erasures: pubsub.Subscription, holder: UserHolder | None) -> None:
    while True:
        item = await erasures.get()
        try:
            if isinstance(item, pubsub.UserErased):
                await _let_go(item, holder)
            else:  # RESYNC: erasures may have been missed
                await _let_go_of_missed(holder)
        except Exception:  # keep following; the next resync catches up
            logger.exception("an erasure was not applied in this process")


async def _let_go(erased: pubsub.UserErased, holder: UserHolder | None) -> None:
    publishing.forget_user(erased.tenant_id, erased.external_id)
    if holder is not None:
        await holder.release(erased.tenant_id, erased.user_id)


async def _let_go_of_missed(holder: UserHolder | None) -> None:
    """The cache starts over, and the holder lets go of the users who no longer exist."""
    publishing.forget_all_users()
    if holder is None:
        return
    held = holder.held_users()
    ids = [user_id for _, user_id in held]
    existing: set[UUID] = set()
    for start in range(0, len(ids), LOOKUP_BATCH):
        batch = ids[start : start + LOOKUP_BATCH]
        found = await User.filter(id__in=batch).values_list("id", flat=True)
        existing.update(as_uuid(user_id) for user_id in found)
    for tenant_id, user_id in held:
        if user_id not in existing:
            await holder.release(tenant_id, user_id)
