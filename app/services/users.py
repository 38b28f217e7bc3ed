"""The tenant's users, named by the host application's own external ids."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from app.auth import mint_user_token
from app.errors import BadUserInput, NotFound
from app.models import Role, Tenant, User
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
    check_external_id(external_id)
    changes = _validated(fields)
    user, created = await User.get_or_create(
        tenant_id=tenant_id, external_id=external_id, defaults=changes
    )
    if not created and changes:
        await User.filter(id=user.id).update(**changes)
        await user.refresh_from_db()
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
