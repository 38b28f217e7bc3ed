"""The tenant's users, named by the host application's own external ids."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from app import clock
from app.auth import mint_user_token, signing_keys, subject_hash
from app.crypto import SecretBox
from app.errors import BadUserInput, NotFound
from app.live import credential_changes
from app.live.publish import publish_credential_change
from app.models import (
    Delivery,
    Event,
    InboxCounter,
    Notification,
    QuietHours,
    Role,
    ScheduledNotification,
    TeamMember,
    User,
    UserChannelPreference,
    UserErasure,
)
from app.services import audience
from app.services.validation import check_external_id, check_length

MIN_TOKEN_TTL = 60


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
    """A changed role reaches the user's open connections in every process."""
    check_external_id(external_id)
    changes = _validated(fields)
    user, created = await User.get_or_create(
        tenant_id=tenant_id, external_id=external_id, defaults=changes
    )
    if not created and changes:
        role_before = user.role
        await User.filter(id=user.id).update(**changes)
        await user.refresh_from_db()
        if user.role != role_before:
            await publish_credential_change(
                credential_changes.RoleChanged(tenant_id, user.id, user.role.value)
            )
    return user


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
    *, tenant_id: UUID, external_id: str, ttl_seconds: int, max_ttl_seconds: int, box: SecretBox
) -> IssuedToken:
    """Signed with the tenant's current signing secret, which `box` opens. A user Belfry has
    not seen is created as a member, as a publish would: their first sign-in finds an inbox."""
    check_external_id(external_id)
    if not MIN_TOKEN_TTL <= ttl_seconds <= max_ttl_seconds:
        raise BadUserInput(
            f"ttlSeconds must be between {MIN_TOKEN_TTL} and {max_ttl_seconds}",
            field="ttlSeconds",
        )
    keys = await signing_keys(box, tenant_id)
    if keys is None:
        raise NotFound("Tenant not found")
    await _known_or_new(tenant_id, external_id)
    token, expires_at = mint_user_token(
        tenant_id=tenant_id,
        external_id=external_id,
        signing_secret=keys.current,
        ttl=timedelta(seconds=ttl_seconds),
    )
    return IssuedToken(token=token, expires_at=expires_at)


async def _known_or_new(tenant_id: UUID, external_id: str) -> None:
    try:
        await audience.resolve(tenant_id, [external_id])
    except IntegrityError:  # made meanwhile by another call: it is there now
        await audience.resolve(tenant_id, [external_id])


async def admin_external_ids(*, tenant_id: UUID) -> list[str]:
    """The tenant's owners and admins, who hear of key changes and get its tests."""
    ids = await User.filter(tenant_id=tenant_id, role__in=[Role.OWNER, Role.ADMIN]).values_list(
        "external_id", flat=True
    )
    return [str(external_id) for external_id in ids]


# --- erasure -------------------------------------------------------------------------------


async def erase_user(*, tenant_id: UUID, external_id: str, box: SecretBox) -> bool:
    """A GDPR erasure, in one transaction: the user's notifications and deliveries,
    preferences, inbox counters, their external id as the actor of the tenant's events, and
    the user. Tokens issued before it are refused from then on, also once a publish has made
    a new user with the same external id, and every process lets go of the user. False when
    there was no such user; events still lose that actor and earlier tokens are refused.
    `box` opens the tenant's erasure key."""
    check_external_id(external_id)
    async with in_transaction():
        user_id = await _lock_user(tenant_id, external_id)
        if user_id is not None:
            await _delete_user(user_id)
        await Event.filter(tenant_id=tenant_id, actor=external_id).update(actor=None)
        await _record_erasure(tenant_id, external_id, box)
    audience.forget_user(tenant_id, external_id)  # this process now, others by the hub
    if user_id is None:
        return False
    await publish_credential_change(credential_changes.UserErased(tenant_id, user_id, external_id))
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
    await UserChannelPreference.filter(user_id=user_id).delete()
    await QuietHours.filter(user_id=user_id).delete()
    await TeamMember.filter(user_id=user_id).delete()
    await ScheduledNotification.filter(recipient_id=user_id).delete()
    await User.filter(id=user_id).delete()


async def _record_erasure(tenant_id: UUID, external_id: str, box: SecretBox) -> None:
    """The time is taken last: a token minted while the erase ran is refused too."""
    keys = await signing_keys(box, tenant_id)
    if keys is None:
        raise NotFound("Tenant not found")
    erasure = UserErasure(
        id=uuid4(),
        tenant_id=tenant_id,
        subject_hash=subject_hash(external_id, keys.erasure_key),
        erased_at=clock.now(),
    )
    await UserErasure.bulk_create(
        [erasure], on_conflict=["tenant_id", "subject_hash"], update_fields=["erased_at"]
    )
