from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.channels import Channel
from app.models.columns import json_field
from app.models.notifications import Notification
from app.models.tenants import Tenant
from app.models.users import User


class DeliveryStatus(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"


class Delivery(Model):
    """One notification to one recipient over one channel: the queue and the log at once.

    Workers claim QUEUED rows that are due, and SENDING rows whose lease ran out (a worker
    died mid-send), so nothing lives only in memory or in Redis.

    On PostgreSQL the database does not check the tenant and recipient (migration 0003): a
    publish writes them in the transaction that resolved them, tenants and users are never
    deleted, and the checks cost over a third of the insert."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="deliveries", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    notification: fields.ForeignKeyNullableRelation[Notification] = fields.ForeignKeyField(
        "belfry.Notification", related_name="deliveries", on_delete=fields.CASCADE, null=True
    )
    notification_id: UUID | None
    recipient: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="deliveries", on_delete=fields.CASCADE, null=True
    )
    recipient_id: UUID | None
    channel = fields.CharEnumField(Channel, max_length=16)
    category = fields.CharField(max_length=100)  # copied: the log filters on it
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.QUEUED)
    attempt_count = fields.IntField(default=0)
    last_error = fields.CharField(max_length=1000, null=True)
    next_attempt_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    lease_token = fields.CharField(max_length=32, null=True)  # which claim holds the lease
    job_id = fields.CharField(max_length=64, null=True)  # sendTestNotification's handle
    rule_id = fields.UUIDField(null=True)
    target: Any = json_field(null=True)  # an explicit address instead of the user's
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "deliveries"
        # Two more, partial so that the in-app rows every publish writes stay out of them,
        # are made in migrations/0002: ix_delivery_due (what workers claim) and
        # ix_delivery_rate (recent emails, for rate limits).
        indexes = [
            Index(fields=("tenant_id", "created_at", "id"), name="ix_delivery_log"),
            Index(fields=("notification_id",), name="ix_delivery_notification"),
        ]
