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
