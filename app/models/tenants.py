from uuid import UUID

from tortoise import fields
from tortoise.models import Model


class Tenant(Model):
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    # The HS256 secret that signs user tokens (the host backend may mint them with it too),
    # sealed with BELFRY_SECRET_KEY (app.crypto). Releases before sealing stored it in clear:
    # such a value is still read, and `belfry rotate-secrets` seals it.
    signing_secret = fields.CharField(max_length=255)
    signing_secret_version = fields.IntField(default=1, db_default=1)  # 1, then +1 a rotation
    # The secret the last rotation replaced, sealed: its tokens verify until the time after it.
    previous_signing_secret = fields.CharField(max_length=255, null=True)
    previous_signing_secret_until = fields.DatetimeField(null=True)
    # Keys the hashes that erased users are remembered by (auth.subject_hash), sealed. Never
    # rotated, so that an erasure outlives any number of rotations of the signing secret.
    erasure_key = fields.CharField(max_length=255)
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
