"""Tenants and their API keys."""

from dataclasses import dataclass
from uuid import UUID

from app.auth import hash_api_key, new_api_key, new_signing_secret
from app.errors import BadUserInput
from app.models import ApiKey, Tenant


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    record: ApiKey
    plain_key: str  # shown once, never stored


async def create_tenant(*, name: str) -> Tenant:
    name = name.strip()
    if not name or len(name) > 200:
        raise BadUserInput("Tenant name must be 1-200 characters")
    return await Tenant.create(name=name, signing_secret=new_signing_secret())


async def create_api_key(*, tenant_id: UUID, name: str = "") -> IssuedApiKey:
    plain, prefix = new_api_key()
    record = await ApiKey.create(
        tenant_id=tenant_id, name=name[:200], prefix=prefix, key_hash=hash_api_key(plain)
    )
    return IssuedApiKey(record=record, plain_key=plain)
