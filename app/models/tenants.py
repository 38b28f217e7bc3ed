from uuid import UUID

from tortoise import fields
from tortoise.models import Model


class Tenant(Model):
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    # HS256 secret the host backend can use to mint user tokens itself.
    signing_secret = fields.CharField(max_length=128)
    # Settings a tenant changes through `updateSettings`.
    retention_days = fields.IntField(default=90)  # delivery log and events
    purge_deleted_after_days = fields.IntField(default=90)  # soft-deleted notifications
    allow_free_categories = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenants"


class ApiKey(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="api_keys", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    name = fields.CharField(max_length=200, default="")
    prefix = fields.CharField(max_length=32)
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"
