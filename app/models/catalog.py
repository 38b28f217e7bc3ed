from dataclasses import dataclass
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.models.columns import json_field, strings
from app.models.tenants import Tenant


class EventCategory(Model):
    """A kind of notification a tenant sends, e.g. `billing.low_balance`."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="event_categories", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    key = fields.CharField(max_length=100)
    group = fields.CharField(max_length=100)
    description = fields.CharField(max_length=500, default="")
    default_channels = json_field(strings, default=list)  # Channel values
    critical = fields.BooleanField(default=False)
    # At most one email per recipient in this many seconds; None means no limit.
    email_rate_limit_seconds = fields.IntField(null=True)

    class Meta:
        table = "event_categories"
        unique_together = (("tenant", "key"),)


@dataclass(slots=True)
class EventCategoryRow:
    """A category as a new tenant's catalogue is written (app.db.bulk_insert)."""

    id: UUID
    tenant_id: UUID
    key: str
    group: str
    description: str
    default_channels: list[str]
    critical: bool
    email_rate_limit_seconds: int | None
