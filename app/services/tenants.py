"""Tenants, their settings, their API keys and their token-signing secrets."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.transactions import in_transaction

from app import clock
from app.auth import hash_api_key, new_api_key, new_erasure_key, new_signing_secret
from app.crypto import SecretBox
from app.errors import BadUserInput, NotFound
from app.live.credential_changes import ApiKeyRevoked, SigningSecretRotated
from app.live.publish import publish_credential_change
from app.models import ApiKey, Tenant, User
from app.services import catalog, publishing, users
from app.services.validation import check_length, parse_uuid

RETENTION_RANGE = range(1, 3651)
DEFAULT_GRACE_SECONDS = 24 * 3600
MAX_GRACE_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class CreatedTenant:
    record: Tenant
    signing_secret: str  # shown once, stored sealed


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    signing_secret: str  # shown once, stored sealed
    previous_until: datetime  # tokens signed with the secret it replaced verify until then


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    record: ApiKey
    plain_key: str  # shown once, never stored


@dataclass(frozen=True, slots=True)
class SettingsChanges:
    """What `updateSettings` may change; None means "leave as is"."""

    retention_days: int | None = None
    purge_deleted_after_days: int | None = None
    allow_free_categories: bool | None = None


async def create_tenant(*, name: str, box: SecretBox) -> CreatedTenant:
    """Its secrets are sealed by `box`."""
    name = name.strip()
    if not name or len(name) > 200:
        raise BadUserInput("Tenant name must be 1-200 characters", field="name")
    secret = new_signing_secret()
    tenant = await Tenant.create(
        name=name, signing_secret=box.seal(secret), erasure_key=box.seal(new_erasure_key())
    )
    await catalog.seed(tenant_id=tenant.id)
    return CreatedTenant(record=tenant, signing_secret=secret)


async def get_settings(*, tenant_id: UUID) -> Tenant:
    return await Tenant.get(id=tenant_id)


async def update_settings(*, tenant_id: UUID, changes: SettingsChanges) -> Tenant:
    values: dict[str, object] = {}
    for field, name in (
        ("retention_days", "retentionDays"),
        ("purge_deleted_after_days", "purgeDeletedAfterDays"),
    ):
        days = getattr(changes, field)
        if days is not None:
            if days not in RETENTION_RANGE:
                raise BadUserInput(f"{name} must be between 1 and 3650", field=name)
            values[field] = days
    if changes.allow_free_categories is not None:
        values["allow_free_categories"] = changes.allow_free_categories
    if values:
        await Tenant.filter(id=tenant_id).update(**values)
    return await Tenant.get(id=tenant_id)


# --- the signing secret --------------------------------------------------------------------


async def rotate_signing_secret(
    *, tenant_id: UUID, grace_seconds: int, box: SecretBox
) -> RotatedSecret:
    """A new signing secret, sealed by `box`. Tokens signed with the one it replaces verify
    for `grace_seconds` more, then are refused, and the connections they opened close in
    every process; tokens of any secret before that one are refused at once."""
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise BadUserInput(
            f"graceSeconds must be between 0 and {MAX_GRACE_SECONDS} (30 days)",
            field="graceSeconds",
        )
    secret = new_signing_secret()
    async with in_transaction():
        # Locked, so that two rotations at once each replace the other's secret in turn.
        tenant = (
            await Tenant.filter(id=tenant_id)
            .select_for_update()
            .only("id", "signing_secret", "signing_secret_version")
            .first()
        )
        if tenant is None:
            raise NotFound("Tenant not found")
        version = tenant.signing_secret_version + 1
        until = clock.now() + timedelta(seconds=grace_seconds)
        await Tenant.filter(id=tenant_id).update(
            signing_secret=box.seal(secret),
            signing_secret_version=version,
            previous_signing_secret=box.sealed(tenant.signing_secret),
            previous_signing_secret_until=until,
        )
    await publish_credential_change(SigningSecretRotated(tenant_id, version, until))
    return RotatedSecret(signing_secret=secret, previous_until=until)


# --- API keys ------------------------------------------------------------------------------


async def create_api_key(*, tenant_id: UUID, name: str = "", announce: bool = True) -> IssuedApiKey:
    check_length("name", name, 200)
    plain, prefix = new_api_key()
    record = await ApiKey.create(
        tenant_id=tenant_id, name=name, prefix=prefix, key_hash=hash_api_key(plain)
    )
    if announce:
        await _tell_admins(
            tenant_id, "system.api_key_created", f"API key {_label(record)} was created"
        )
    return IssuedApiKey(record=record, plain_key=plain)


async def list_api_keys(*, tenant_id: UUID) -> list[ApiKey]:
    return await ApiKey.filter(tenant_id=tenant_id).order_by("-created_at", "id")


async def revoke_api_key(*, tenant_id: UUID, key_id: str) -> ApiKey:
    """Revoked keys are refused from the next request on, and the connections they opened are
    closed in every process. Revoking twice is harmless."""
    kid = parse_uuid(key_id)
    key = None if kid is None else await ApiKey.get_or_none(id=kid, tenant_id=tenant_id)
    if key is None:
        raise NotFound("API key not found")
    if key.revoked_at is None:
        updated = await ApiKey.filter(id=key.id, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        await key.refresh_from_db()
        if updated:
            await publish_credential_change(ApiKeyRevoked(tenant_id, key.id))
            await _tell_admins(
                tenant_id, "system.api_key_revoked", f"API key {_label(key)} was revoked"
            )
    return key


def _label(key: ApiKey) -> str:
    return f"{key.prefix}… ({key.name})" if key.name else f"{key.prefix}…"


async def _tell_admins(tenant_id: UUID, category: str, title: str) -> None:
    if admins := await users.admin_external_ids(tenant_id=tenant_id):
        await publishing.publish_notification(
            tenant_id=tenant_id,
            recipients=admins,
            draft=publishing.NotificationDraft(category=category, title=title),
        )


# --- recipients ----------------------------------------------------------------------------


async def users_of(*, tenant_id: UUID) -> list[User]:
    return await User.filter(tenant_id=tenant_id).order_by("external_id")
