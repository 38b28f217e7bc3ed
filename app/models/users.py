from enum import StrEnum
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.models.tenants import Tenant


class Role(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


class User(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="users", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    external_id = fields.CharField(max_length=200)
    email = fields.CharField(max_length=320, null=True)
    phone = fields.CharField(max_length=32, null=True)
    name = fields.CharField(max_length=200, null=True)
    role = fields.CharEnumField(Role, max_length=16, default=Role.MEMBER)
    locale = fields.CharField(max_length=35, null=True)
    timezone = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"
        unique_together = (("tenant", "external_id"),)


class UserErasure(Model):
    """A user erased at the tenant's request, known only by the SHA-256 of the external id.

    That is enough to refuse tokens issued before the erase without keeping the id itself."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="user_erasures", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    subject_hash = fields.CharField(max_length=64)
    erased_at = fields.DatetimeField()  # the last erase: a re-created user can be erased again

    class Meta:
        table = "user_erasures"
        unique_together = (("tenant", "subject_hash"),)
