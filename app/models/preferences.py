from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.models.channels import channel_field
from app.models.columns import json_field, numbers
from app.models.tenants import Tenant
from app.models.users import User


class ChannelPreference(Model):
    """One channel's switch for one category. A channel with no row is not set at that level:
    the level below decides (catalogue < tenant < personal)."""

    id = fields.UUIDField(primary_key=True)
    category = fields.CharField(max_length=100)
    channel = channel_field()
    enabled = fields.BooleanField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantChannelPreference(ChannelPreference):
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="channel_preferences", on_delete=fields.CASCADE
    )
    tenant_id: UUID

    class Meta:
        table = "tenant_channel_preferences"
        unique_together = (("tenant", "category", "channel"),)


class UserChannelPreference(ChannelPreference):
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="channel_preferences", on_delete=fields.CASCADE
    )
    user_id: UUID

    class Meta:
        table = "user_channel_preferences"
        unique_together = (("user", "category", "channel"),)


class QuietHours(Model):
    """When a user does not want email, SMS or chat: each day in `days` (ISO weekdays, 1 is
    Monday) from `start` to `end`, local times "HH:MM" in `timezone` (None: the user's own).
    An end at or before the start ends the next day. Deliveries that fall inside are held
    until it ends (services.quiet_hours)."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="quiet_hours", on_delete=fields.CASCADE, unique=True
    )
    user_id: UUID
    start = fields.CharField(max_length=5)
    end = fields.CharField(max_length=5)
    timezone = fields.CharField(max_length=64, null=True)
    days = json_field(numbers)
    enabled = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "quiet_hours"
