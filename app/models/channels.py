from enum import StrEnum
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.models.tenants import Tenant


class Channel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"
    WEBHOOK = "WEBHOOK"
    SLACK = "SLACK"
    TELEGRAM = "TELEGRAM"


# The column that holds each channel's switch in preference rows.
CHANNEL_FIELDS: dict[Channel, str] = {channel: channel.value.lower() for channel in Channel}


class ChannelConfig(Model):
    """A tenant's settings for one channel. Secret values are stored encrypted (app/crypto.py)."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="channel_configs", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    channel = fields.CharEnumField(Channel, max_length=16)
    enabled = fields.BooleanField(default=False)
    config = fields.TextField(default="{}")  # JSON; secret fields hold ciphertext
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "channel_configs"
        unique_together = (("tenant", "channel"),)
