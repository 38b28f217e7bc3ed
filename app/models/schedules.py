from typing import TypedDict, cast
from uuid import UUID

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.encoding import JsonValue
from app.models.columns import json_field
from app.models.notifications import ActionJson
from app.models.teams import TeamRef
from app.models.tenants import Tenant
from app.models.users import User


class ScheduledContent(TypedDict):
    """A scheduled notification's draft but its category, as it is kept until it goes."""

    title: str
    body: str | None
    link: str | None
    data: JsonValue
    priority: str  # a Priority's name
    actions: list[ActionJson] | None
    tags: list[str]
    expires_at: str | None  # ISO 8601
    collapse_key: str | None


def scheduled_content(value: JsonValue) -> ScheduledContent:
    """As services.scheduling wrote it."""
    return cast(ScheduledContent, value)


class ScheduledNotification(Model):
    """A notification published with a sendAt still to come, for one recipient.

    Its id is the one the notification will have. Until then it is in no inbox and no count.
    A publish to many recipients writes one row each, sharing a `batch_id`, and they go out
    together, as one publish (services.scheduling). The row is gone once sent or cancelled."""

    id = fields.UUIDField(primary_key=True)
    batch_id = fields.UUIDField()
    position = fields.IntField()  # the recipient's place in the publish's list
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="scheduled_notifications", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    recipient: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="scheduled_notifications", on_delete=fields.CASCADE
    )
    recipient_id: UUID
    category = fields.CharField(max_length=100)
    content = json_field(scheduled_content)
    idempotency_key = fields.CharField(max_length=200, null=True)
    # The team the recipient was reached through (see Notification).
    team_key = fields.CharField(max_length=100, null=True)
    team_name = fields.CharField(max_length=200, null=True)
    send_at = fields.DatetimeField()
    request_id = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField()

    @property
    def team(self) -> TeamRef | None:
        return TeamRef.of(self.team_key, self.team_name)

    class Meta:
        table = "scheduled_notifications"
        # A retried scheduling collides here, as a retried publish does on notifications.
        unique_together = (("recipient", "idempotency_key"),)
        indexes = [
            Index(fields=("send_at", "batch_id"), name="ix_scheduled_due"),
            Index(fields=("tenant_id", "send_at", "id"), name="ix_scheduled_list"),
        ]
