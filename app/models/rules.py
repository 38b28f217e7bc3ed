from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self, cast
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.encoding import JsonObject, JsonValue
from app.models.channels import Channel
from app.models.columns import json_field, strings
from app.models.notifications import ActionJson, Priority
from app.models.tenants import Tenant


class ConditionLogic(StrEnum):
    AND = "AND"
    OR = "OR"


class Cadence(StrEnum):
    INSTANT = "INSTANT"
    HOURLY = "HOURLY"
    DAILY = "DAILY"


class Operator(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    EXISTS = "exists"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


@dataclass(frozen=True, slots=True)
class Condition:
    """A test of an event's payload: the value at `field`, a dotted path, against `value`
    (services.conditions)."""

    field: str
    operator: Operator
    value: JsonValue = None

    def as_json(self) -> JsonObject:
        return {"field": self.field, "operator": self.operator.value, "value": self.value}

    @classmethod
    def from_json(cls, stored: JsonValue) -> Self:
        kept = cast(JsonObject, stored)
        return cls(
            field=cast(str, kept["field"]),
            operator=Operator(cast(str, kept["operator"])),
            value=kept.get("value"),
        )


@dataclass(frozen=True, slots=True)
class RuleAction:
    """What a matching event sends on one channel, to whom, and how its notifications look;
    None where the action leaves that as a publish would. An endpoint channel's recipients
    may be empty, and are ignored."""

    channel: Channel
    # External user ids, "role:ADMIN", "team:KEY" and raw addresses.
    recipients: list[str] = field(default_factory=list)
    priority: Priority | None = None
    tags: list[str] | None = None
    actions: list[ActionJson] | None = None  # the notifications' buttons
    expires_in_seconds: int | None = None
    collapse_key: str | None = None

    def as_json(self) -> dict[str, object]:
        """As the rules table keeps it: the notifications' settings only where set."""
        look = {
            "priority": None if self.priority is None else self.priority.name,
            "tags": self.tags,
            "actions": self.actions,
            "expires_in_seconds": self.expires_in_seconds,
            "collapse_key": self.collapse_key,
        }
        return {
            "channel": self.channel.value,
            "recipients": self.recipients,
            **{name: value for name, value in look.items() if value is not None},
        }

    @classmethod
    def from_json(cls, stored: JsonValue) -> Self:
        kept = cast(JsonObject, stored)
        priority = kept.get("priority")
        return cls(
            channel=Channel(cast(str, kept["channel"])),
            recipients=cast(list[str], kept.get("recipients") or []),
            priority=None if priority is None else Priority[cast(str, priority)],
            tags=cast(list[str] | None, kept.get("tags")),
            actions=cast(list[ActionJson] | None, kept.get("actions")),
            expires_in_seconds=cast(int | None, kept.get("expires_in_seconds")),
            collapse_key=cast(str | None, kept.get("collapse_key")),
        )


def conditions_of(stored: JsonValue) -> list[Condition]:
    return [Condition.from_json(c) for c in cast(list[JsonValue], stored)]


def actions_of(stored: JsonValue) -> list[RuleAction]:
    return [RuleAction.from_json(a) for a in cast(list[JsonValue], stored)]


def _conditions_json(conditions: list[Condition]) -> list[JsonObject]:
    return [c.as_json() for c in conditions]


def _actions_json(actions: list[RuleAction]) -> list[dict[str, object]]:
    return [a.as_json() for a in actions]


class Rule(Model):
    """When an event of these types matches these conditions, notify these recipients."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="rules", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    name = fields.CharField(max_length=200)
    enabled = fields.BooleanField(default=True)
    events = json_field(strings, default=list)  # exact types and "prefix.*" wildcards
    condition_logic = fields.CharEnumField(ConditionLogic, max_length=8, default=ConditionLogic.AND)
    conditions = json_field(conditions_of, _conditions_json, default=list)
    cadence = fields.CharEnumField(Cadence, max_length=8, default=Cadence.INSTANT)
    actions = json_field(actions_of, _actions_json, default=list)
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
    payload = json_field(null=True)
    actor = fields.CharField(max_length=200, null=True)
    recipients = json_field(strings, null=True)
    idempotency_key = fields.CharField(max_length=200, null=True)
    notification_ids = json_field(strings, default=list)  # what it produced, for retries
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
