from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import TypedDict, cast
from uuid import UUID

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.encoding import JsonValue
from app.models.columns import json_field, strings
from app.models.teams import TeamRef
from app.models.tenants import Tenant
from app.models.users import User


class Priority(IntEnum):
    """Stored as its number, so that the inbox sorts by it."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3


class ActionJson(TypedDict):
    """A button of a notification, as notifications, snapshots and messages hold it; at most
    three (services.publishing)."""

    id: str
    label: str
    url: str | None
    primary: bool


def action_list(value: JsonValue) -> list[ActionJson]:
    """Buttons as publishing wrote them."""
    return cast(list[ActionJson], value)


class Notification(Model):
    """One notification in one user's inbox.

    Soft-deleted rows keep `deleted_at`. Read implies seen; archived and snoozed ones leave
    the inbox's list and badges until unarchived or back."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="notifications", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    recipient: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="notifications", on_delete=fields.CASCADE
    )
    recipient_id: UUID
    category = fields.CharField(max_length=100)
    title = fields.CharField(max_length=500)
    body = fields.TextField(null=True)
    link = fields.CharField(max_length=2048, null=True)
    data = json_field(null=True)
    priority = fields.IntEnumField(Priority, default=Priority.NORMAL, db_default=Priority.NORMAL)
    actions = json_field(action_list, null=True)  # its buttons
    tags = json_field(strings, null=True)  # as shown; NotificationTag rows are what filters use
    idempotency_key = fields.CharField(max_length=200, null=True)
    read_at = fields.DatetimeField(null=True)
    seen_at = fields.DatetimeField(null=True)
    archived_at = fields.DatetimeField(null=True)
    interacted_at = fields.DatetimeField(null=True)  # an action was taken
    # Out of the inbox until then (services.inbox_clock brings it back).
    snoozed_until = fields.DatetimeField(null=True)
    # Hidden from then on; services.inbox_clock deletes it, and retention erases it.
    expires_at = fields.DatetimeField(null=True)
    # A publish with the same key replaces the latest unread one instead of adding a row.
    collapse_key = fields.CharField(max_length=100, null=True)
    occurrences = fields.IntField(default=1, db_default=1)
    # The team the recipient was reached through, as named then; null when named directly.
    team_key = fields.CharField(max_length=100, null=True)
    team_name = fields.CharField(max_length=200, null=True)
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    @property
    def team(self) -> TeamRef | None:
        return TeamRef.of(self.team_key, self.team_name)

    class Meta:
        table = "notifications"
        # A retried publish collides here instead of creating a second copy.
        unique_together = (("recipient", "idempotency_key"),)
        indexes = [
            Index(fields=("recipient_id", "created_at", "id"), name="ix_notif_inbox"),
            Index(fields=("recipient_id", "read_at", "created_at", "id"), name="ix_notif_unread"),
            Index(fields=("recipient_id", "category", "created_at", "id"), name="ix_notif_cat"),
            Index(
                fields=("recipient_id", "priority", "created_at", "id"), name="ix_notif_priority"
            ),
        ]


# Rows a publish writes by the thousand (app.db.bulk_insert): plain slotted dataclasses, since
# frozen ones cost three times as much to construct. Their fields are their models' columns.
@dataclass(slots=True)
class NotificationRow:
    """A new notification as a publish writes it, and as its live event tells it (the columns
    it leaves out take their defaults: unread, unseen, one occurrence)."""

    id: UUID
    tenant_id: UUID
    recipient_id: UUID
    category: str
    title: str
    created_at: datetime
    body: str | None = None
    link: str | None = None
    data: JsonValue = None
    priority: Priority = Priority.NORMAL
    actions: list[ActionJson] | None = None
    tags: list[str] | None = None
    expires_at: datetime | None = None
    collapse_key: str | None = None
    idempotency_key: str | None = None
    team_key: str | None = None
    team_name: str | None = None
    # Written deleted when the recipient switched in-app off: kept for the delivery log only.
    deleted_at: datetime | None = None


class NotificationTag(Model):
    """One tag of one notification.

    Kept beside its recipient, so that the inbox finds a user's notifications with any of
    some tags through one index."""

    id = fields.UUIDField(primary_key=True)
    notification: fields.ForeignKeyRelation[Notification] = fields.ForeignKeyField(
        "belfry.Notification", related_name="tag_rows", on_delete=fields.CASCADE
    )
    notification_id: UUID
    recipient: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="notification_tags", on_delete=fields.CASCADE
    )
    recipient_id: UUID
    tag = fields.CharField(max_length=50)

    class Meta:
        table = "notification_tags"
        indexes = [Index(fields=("recipient_id", "tag"), name="ix_tag_recipient")]


@dataclass(slots=True)
class TagRow:
    """A new notification's tag, as a publish writes it."""

    id: UUID
    notification_id: UUID
    recipient_id: UUID
    tag: str


class InboxCounter(Model):
    """Live totals per (user, category), kept in the same transaction as every inbox change,
    so badge counts cost the same for 10 or 100,000 notifications. `total`, `unread` and
    `unseen` count the inbox (neither deleted nor archived); `archived` and `archived_unread`
    the archive."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="counters", on_delete=fields.CASCADE
    )
    user_id: UUID
    category = fields.CharField(max_length=100)
    total = fields.IntField(default=0)
    unread = fields.IntField(default=0)
    # Defaults in the database too: the columns were added to tables that had rows.
    unseen = fields.IntField(default=0, db_default=0)
    archived = fields.IntField(default=0, db_default=0)
    archived_unread = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "inbox_counters"
        unique_together = (("user", "category"),)
