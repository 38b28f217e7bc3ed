"""What reaches every process when a credential changes: a user erased, an API key revoked, a
role changed, a tenant's signing secret rotated (the credentials topic, app.live.topics)."""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID


@dataclass(frozen=True, slots=True)
class UserErased:
    """A user erased through some process: every process lets go of what it holds for them."""

    kind: ClassVar[str] = "user_erased"
    tenant_id: UUID
    user_id: UUID
    external_id: str


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked:
    kind: ClassVar[str] = "api_key_revoked"
    tenant_id: UUID
    key_id: UUID


@dataclass(frozen=True, slots=True)
class RoleChanged:
    kind: ClassVar[str] = "role_changed"
    tenant_id: UUID
    user_id: UUID
    role: str  # a models.Role value


@dataclass(frozen=True, slots=True)
class SigningSecretRotated:
    """A tenant's signing secret replaced by its `version`th: tokens signed with the one before
    verify until `previous_until` (app.clock time), and any older ones no longer."""

    kind: ClassVar[str] = "signing_secret_rotated"
    tenant_id: UUID
    version: int
    previous_until: datetime


CredentialChange = UserErased | ApiKeyRevoked | RoleChanged | SigningSecretRotated
