from datetime import datetime
from typing import Self
from uuid import UUID

import strawberry

from app import models
from app.graphql.context import Info
from app.graphql.permissions import ForAdmins, ForOwners
from app.graphql.teams import Team
from app.graphql.users import User
from app.services import tenants as service


@strawberry.type
class TenantSettings:
    retention_days: int = strawberry.field(description="Days the delivery log is kept.")
    purge_deleted_after_days: int = strawberry.field(
        description="Days a deleted notification is kept before it is erased."
    )
    allow_free_categories: bool = strawberry.field(
        description="Publishing to categories outside the catalogue is allowed; each joins "
        'it, in the group "Other", when first published.'
    )

    @classmethod
    def from_model(cls, tenant: models.Tenant) -> Self:
        return cls(
            retention_days=tenant.retention_days,
            purge_deleted_after_days=tenant.purge_deleted_after_days,
            allow_free_categories=tenant.allow_free_categories,
        )


@strawberry.input
class TenantSettingsInput:
    retention_days: int | None = None
    purge_deleted_after_days: int | None = None
    allow_free_categories: bool | None = None


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The first characters, to recognise the key.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, key: models.ApiKey) -> Self:
        return cls(
            id=strawberry.ID(str(key.id)),
            name=key.name,
            prefix=key.prefix,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


@strawberry.type
class CreatedApiKey:
    api_key: ApiKey
    key: str = strawberry.field(description="The key itself. Shown this once, never again.")


@strawberry.type
class Recipients:
    users: list[User]
    roles: list[models.Role]
    tenant_id: strawberry.Private[UUID]

    @strawberry.field(description="Named in rule actions as team:KEY.")
    async def teams(self) -> list[Team]:
        return await Team.listed(self.tenant_id)


@strawberry.type
class TenantQuery:
    @strawberry.field(permission_classes=[ForAdmins])
    async def settings(self, info: Info) -> TenantSettings:
        return TenantSettings.from_model(
            await service.get_settings(tenant_id=info.context.tenant_id)
        )

    @strawberry.field(permission_classes=[ForAdmins])
    async def api_keys(self, info: Info) -> list[ApiKey]:
        keys = await service.list_api_keys(tenant_id=info.context.tenant_id)
        return [ApiKey.from_model(k) for k in keys]

    @strawberry.field(
        permission_classes=[ForAdmins],
        description="Who rules can address: users, roles and teams.",
    )
    async def recipients(self, info: Info) -> Recipients:
        tenant_id = info.context.tenant_id
        users = await service.users_of(tenant_id=tenant_id)
        return Recipients(
            users=[User.from_model(u) for u in users], roles=list(models.Role), tenant_id=tenant_id
        )


@strawberry.type
class TenantMutation:
    @strawberry.mutation(permission_classes=[ForAdmins])
    async def update_settings(self, info: Info, input: TenantSettingsInput) -> TenantSettings:
        changes = service.SettingsChanges(
            retention_days=input.retention_days,
            purge_deleted_after_days=input.purge_deleted_after_days,
            allow_free_categories=input.allow_free_categories,
        )
        tenant = await service.update_settings(tenant_id=info.context.tenant_id, changes=changes)
        return TenantSettings.from_model(tenant)

    @strawberry.mutation(permission_classes=[ForAdmins])
    async def create_api_key(self, info: Info, name: str = "") -> CreatedApiKey:
        issued = await service.create_api_key(tenant_id=info.context.tenant_id, name=name)
        return CreatedApiKey(api_key=ApiKey.from_model(issued.record), key=issued.plain_key)

    @strawberry.mutation(
        permission_classes=[ForAdmins], description="Refused from the next call on."
    )
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        key = await service.revoke_api_key(tenant_id=info.context.tenant_id, key_id=id)
        return ApiKey.from_model(key)

    @strawberry.mutation(
        permission_classes=[ForOwners],
        description=(
            "A new secret for user tokens, shown this once. Tokens signed with the one it "
            "replaces work for graceSeconds more (0 to 30 days), then are refused and the "
            "sockets they opened close; tokens of any secret before that one, at once."
        ),
    )
    async def rotate_signing_secret(
        self, info: Info, grace_seconds: int | None = service.DEFAULT_GRACE_SECONDS
    ) -> str:
        rotated = await service.rotate_signing_secret(
            tenant_id=info.context.tenant_id,
            # An explicit null (a variable left unset) asks for the default as well.
            grace_seconds=service.DEFAULT_GRACE_SECONDS if grace_seconds is None else grace_seconds,
            box=info.context.settings.secret_box,
        )
        return rotated.signing_secret
