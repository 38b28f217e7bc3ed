"""Each tenant's channel configs as their providers read them: secrets opened, parsed.

Below the services that change them (app.services.channels), so the worker reads them from
here rather than from a layer above it."""

import json
from dataclasses import dataclass
from uuid import UUID

from pydantic import BaseModel

from app.crypto import SecretBox, SecretUnreadable
from app.delivery.providers import REGISTRY
from app.delivery.providers.base import Readiness
from app.encoding import JsonObject
from app.models import Channel, ChannelConfig

UNREADABLE = Readiness(ready=False, reason="SECRET_UNREADABLE")


@dataclass(frozen=True, slots=True)
class Stored:
    enabled: bool
    plain: JsonObject  # the config as stored, its secrets opened
    # Secrets none of BELFRY_SECRET_KEY's keys opens, as stored: kept, never lost.
    unreadable: dict[str, str]


NOTHING_STORED = Stored(enabled=False, plain={}, unreadable={})


@dataclass(frozen=True, slots=True)
class Loaded:
    enabled: bool
    config: BaseModel | None  # the provider's config model, None where there is no valid one
    readiness: Readiness


def opened(box: SecretBox, channel: Channel, row: ChannelConfig | None) -> Stored:
    """The stored config with its secrets opened, as far as the box can open them."""
    if row is None:
        return NOTHING_STORED
    secrets = REGISTRY[channel].secret_fields
    plain: JsonObject = {}
    unreadable: dict[str, str] = {}
    for key, value in json.loads(row.config).items():
        if key not in secrets or value is None:
            plain[key] = value
            continue
        try:
            plain[key] = json.loads(box.open(value))
        except SecretUnreadable:
            unreadable[key] = value
    return Stored(enabled=row.enabled, plain=plain, unreadable=unreadable)


def parsed(channel: Channel, stored: Stored) -> tuple[BaseModel | None, Readiness]:
    """The provider's config (None when invalid) and whether it can send."""
    if stored.unreadable:
        return None, UNREADABLE
    provider = REGISTRY[channel]
    try:
        config = provider.parse_config(stored.plain)
    except ValueError:
        config = None
    return config, provider.readiness(config)


async def load(*, tenant_id: UUID, box: SecretBox) -> dict[Channel, Loaded]:
    """Every configurable channel's state, with the config parsed for its provider."""
    rows = {r.channel: r for r in await ChannelConfig.filter(tenant_id=tenant_id)}
    loaded: dict[Channel, Loaded] = {}
    for channel, provider in REGISTRY.items():
        if provider.configurable:
            stored = opened(box, channel, rows.get(channel))
            config, readiness = parsed(channel, stored)
            loaded[channel] = Loaded(enabled=stored.enabled, config=config, readiness=readiness)
    return loaded
