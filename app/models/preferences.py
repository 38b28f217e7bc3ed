from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.models.tenants import Tenant
from app.models.users import User


class ChannelSwitches(Model):
    """One category's switch per channel; None means "not set here, ask the level below"."""

    id = fields.UUIDField(primary_key=True)
    category = fields.CharField(max_length=100)
    in_app = fields.BooleanField(null=True)
    email = fields.BooleanField(null=True)
    sms = fields.BooleanField(null=True)
    webhook = fields.BooleanField(null=True)
    slack = fields.BooleanField(null=True)
    telegram = fields.BooleanField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantPreference(ChannelSwitches):
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="preferences", on_delete=fields.CASCADE
    )
    tenant_id: UUID

    class Meta:
        table = "tenant_preferences"
        unique_together = (("tenant", "category"),)


class UserPreference(ChannelSwitches):
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="preferences", on_delete=fields.CASCADE
    )
    user_id: UUID

    class Meta:
        table = "user_preferences"
        unique_together = (("user", "category"),)
