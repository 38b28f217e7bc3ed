from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.models.columns import json_field
from app.models.tenants import Tenant


class ConditionLogic(StrEnum):
    AND = "AND"
    OR = "OR"


class Cadence(StrEnum):
    INSTANT = "INSTANT"
    HOURLY = "HOURLY"
    DAILY = "DAILY"


class Rule(Model):
    """When an event of these types matches these conditions, notify these recipients."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="rules", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    name = fields.CharField(max_length=200)
    enabled = fields.BooleanField(default=True)
    events: Any = json_field(default=list)  # exact types and "prefix.*" wildcards
    condition_logic = fields.CharEnumField(ConditionLogic, max_length=8, default=ConditionLogic.AND)
    conditions: Any = json_field(default=list)  # [{field, operator, value}]
    cadence = fields.CharEnumField(Cadence, max_length=8, default=Cadence.INSTANT)
    # [{channel, recipients, ...}]; an endpoint channel's recipients may be [] (and are ignored).
    actions: Any = json_field(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    last_triggered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rules"


class Event(Model):
    """Something that happened in the product of a tenant, kept for its retention period."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="events", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    type = fields.CharField(max_length=100)
    payload: Any = json_field(null=True)
    actor = fields.CharField(max_length=200, null=True)
    recipients: Any = json_field(null=True)
    idempotency_key = fields.CharField(max_length=200, null=True)
    notification_ids: Any = json_field(default=list)  # what it produced, for retries
    # And how many deliveries it made to raw addresses and channel endpoints.
    direct_deliveries = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events"
        unique_together = (("tenant", "idempotency_key"),)


class Digest(Model):
    """The batch of a non-instant rule for one window: flushed once, one message per recipient."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="digests", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    rule: fields.ForeignKeyRelation[Rule] = fields.ForeignKeyField(
        "belfry.Rule", related_name="digests", on_delete=fields.CASCADE
    )
    rule_id: UUID
    window_end = fields.DatetimeField()
    flushed_at = fields.DatetimeField(null=True)
    # Writing it failed this often; at MAX_ATTEMPTS it is given up, recorded as failed.
    attempts = fields.IntField(default=0, db_default=0)
    last_error = fields.CharField(max_length=500, null=True)
    failed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "digests"
        unique_together = (("rule", "window_end"),)


class DigestItem(Model):
    """One event batched into a digest."""

    id = fields.UUIDField(primary_key=True)
    digest: fields.ForeignKeyRelation[Digest] = fields.ForeignKeyField(
        "belfry.Digest", related_name="items", on_delete=fields.CASCADE
    )
    digest_id: UUID
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "belfry.Event", related_name="digest_items", on_delete=fields.CASCADE
    )
    event_id: UUID
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "digest_items"
