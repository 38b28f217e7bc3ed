from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

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
    events: Any = fields.JSONField(default=list)  # exact types and "prefix.*" wildcards
    condition_logic = fields.CharEnumField(ConditionLogic, max_length=8, default=ConditionLogic.AND)
    conditions: Any = fields.JSONField(default=list)  # [{field, operator, value}]
    cadence = fields.CharEnumField(Cadence, max_length=8, default=Cadence.INSTANT)
    actions: Any = fields.JSONField(default=list)  # [{channel, recipients}]
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    last_triggered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rules"
