from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import cast
from uuid import UUID

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.encoding import JsonObject, JsonValue
from app.models.channels import Channel, channel_field
from app.models.columns import json_field
from app.models.notifications import ActionJson, Notification
from app.models.tenants import Tenant
from app.models.users import User


class DeliveryStatus(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"
    HELD = "HELD"  # inside the recipient's quiet hours: queued for when they end


# A delivery in flight is the queue, not the log: only finished ones may be deleted.
IN_FLIGHT = (DeliveryStatus.QUEUED, DeliveryStatus.HELD, DeliveryStatus.SENDING)
# What workers have to send now: the queue an operator watches (held ones are not late).
QUEUE = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SUPPRESSED)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a delivery with no notification behind it sends (a rule's raw address or a
    channel's own endpoint): the same fields a notification gives every channel."""

    title: str
    body: str | None = None
    link: str | None = None
    data: JsonValue = None
    priority: str = "NORMAL"  # a Priority's name
    actions: list[ActionJson] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, stored: JsonValue) -> "Snapshot":
        kept = cast(JsonObject, stored)
        return cls(
            title=cast(str, kept["title"]),
            body=cast(str | None, kept.get("body")),
            link=cast(str | None, kept.get("link")),
            data=kept.get("data"),
            priority=cast(str, kept.get("priority", "NORMAL")),  # from before priorities
            actions=cast(list[ActionJson], kept.get("actions") or []),
            tags=cast(list[str], kept.get("tags") or []),
        )


class Delivery(Model):
    """One notification to one recipient over one channel: the queue and the log at once.

    Workers claim QUEUED rows that are due, and SENDING rows whose lease ran out (a worker
    died mid-send), so nothing lives only in memory or in Redis.

    A delivery goes to a user (`recipient`, with a `notification`), to a raw address
    (`address`, with a `snapshot` of the message) or to the channel's own endpoint (neither).
    The log outlives the notification: the retention job erases a deleted notification only
    once its deliveries are gone."""

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
    channel = channel_field()
    category = fields.CharField(max_length=100)  # copied: the log filters on it
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.QUEUED)
    attempt_count = fields.IntField(default=0)
    last_error = fields.CharField(max_length=1000, null=True)
    next_attempt_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    lease_token = fields.CharField(max_length=32, null=True)  # which claim holds the lease
    job_id = fields.CharField(max_length=64, null=True)  # sendTestNotification's handle
    rule_id = fields.UUIDField(null=True)
    # A test send: goes out on a channel that is configured but not enabled.
    forced = fields.BooleanField(default=False, db_default=False)
    address = fields.CharField(max_length=320, null=True)  # a rule's raw email or phone
    # What it sends, where there is no notification.
    snapshot = json_field(Snapshot.from_json, Snapshot.to_json, null=True)
    # Where it came from, for operators: the X-Request-ID of the request that queued it, and
    # the W3C traceparent of that request's span (with tracing on), which the worker's logs
    # and spans carry on.
    request_id = fields.CharField(max_length=64, null=True)
    trace_parent = fields.CharField(max_length=128, null=True)
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


@dataclass(slots=True)
class DeliveryRow:
    """A new delivery as a publish writes it (app.db.bulk_insert), and as its live event tells
    it: the columns a worker sets later (lease, next attempts) take their defaults."""

    id: UUID
    tenant_id: UUID
    channel: Channel
    category: str
    status: DeliveryStatus
    created_at: datetime
    notification_id: UUID | None = None
    recipient_id: UUID | None = None
    address: str | None = None
    snapshot: Snapshot | None = None
    forced: bool = False
    attempt_count: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    job_id: str | None = None
    rule_id: UUID | None = None
    request_id: str | None = None
    trace_parent: str | None = None
