import re
from enum import StrEnum
from importlib.metadata import entry_points
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.models.tenants import Tenant

# Installed packages add channels through entry points in this group, each named after its
# channel and pointing at its provider class (app.delivery.providers loads them).
PLUGIN_GROUP = "belfry.channels"
# A GraphQL enum value in Belfry's style, short enough for the channel columns.
MAX_NAME = 16
_NAME = re.compile(rf"[A-Z][A-Z0-9_]{{0,{MAX_NAME - 1}}}")


def installed_channels() -> list[str]:
    """The names of the channels installed packages add; ValueError for a name that could not
    be a channel's."""
    names = sorted({entry.name for entry in entry_points(group=PLUGIN_GROUP)})
    for name in names:
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"The {PLUGIN_GROUP} entry point {name!r} must be a channel name: capital "
                f"letters, digits and _, at most {MAX_NAME} characters"
            )
    return names


class Channel(StrEnum):
    """Every channel's name: Belfry's own, then those of installed packages. Each has its
    provider in app.delivery.providers.REGISTRY."""

    _ignore_ = ["_members", "_name"]
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"
    WEBHOOK = "WEBHOOK"
    SLACK = "SLACK"
    TELEGRAM = "TELEGRAM"
    # The enum's own way to add members from a loop (the _ignore_ recipe of the enum HOWTO).
    _members = vars()
    for _name in installed_channels():
        if _name in _members:
            raise ValueError(f"An installed package adds the channel {_name}, which Belfry has")
        _members[_name] = _name


# Said of every channel column, rather than the list of names Tortoise would write there: the
# models stay the same whichever channels are installed, so no plugin needs a migration.
CHANNEL_COLUMN = "A Channel name"


def channel_field() -> fields.Field[Channel]:
    return fields.CharEnumField(Channel, max_length=MAX_NAME, description=CHANNEL_COLUMN)


class ChannelConfig(Model):
    """A tenant's settings for one channel. Secret values are stored encrypted (app/crypto.py)."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="channel_configs", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    channel = channel_field()
    enabled = fields.BooleanField(default=False)
    config = fields.TextField(default="{}")  # JSON; secret fields hold ciphertext
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "channel_configs"
        unique_together = (("tenant", "channel"),)
