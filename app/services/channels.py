"""Each tenant's channel settings: enabled or not, the provider config, secrets sealed."""

import json
from dataclasses import dataclass, replace
from typing import TypedDict
from uuid import UUID, uuid4

from pydantic import BaseModel

from app import clock
from app.crypto import SecretBox
from app.db import select_rows
from app.delivery.configs import Stored, load, opened, parsed
from app.delivery.providers import REGISTRY
from app.delivery.providers.base import Message, Readiness, SendContext, Target
from app.delivery.targets import UnsafeTarget, check_target
from app.encoding import JsonObject, JsonValue
from app.errors import BadUserInput
from app.models import Channel, ChannelConfig
from app.services.validation import MAX_CONFIG_BYTES, check_json

REDACTED = "********"
# What a tenant configures and enables; the rest (in-app) is always on.
CONFIGURABLE = [channel for channel, provider in REGISTRY.items() if provider.configurable]
ALWAYS_ON = frozenset(REGISTRY) - set(CONFIGURABLE)


@dataclass(frozen=True, slots=True)
class ChannelView:
    channel: Channel
    enabled: bool
    config: JsonObject  # as the API shows it: as stored, secrets redacted
    readiness: Readiness


def _provider_channel(channel: Channel) -> Channel:
    if not REGISTRY[channel].configurable:
        raise BadUserInput(f"The {channel.value} channel needs no configuration", field="channel")
    return channel


async def _stored(tenant_id: UUID, channel: Channel, box: SecretBox) -> Stored:
    """The stored config as its model reads it, where it does: a key saved under its field
    name (as releases before kept it, a secret then in the clear) is under its own."""
    row = await ChannelConfig.get_or_none(tenant_id=tenant_id, channel=channel)
    stored = opened(box, channel, row)
    config, _ = parsed(channel, stored)
    return stored if config is None else replace(stored, plain=_settings(config))


def _seal_secrets(box: SecretBox, channel: Channel, stored: Stored) -> JsonObject:
    """Secret values of any JSON shape (a token, a dict of headers) are sealed as JSON."""
    secrets = REGISTRY[channel].secret_fields
    sealed = {
        k: box.seal(json.dumps(v)) if k in secrets and v is not None else v
        for k, v in stored.plain.items()
    }
    return {**sealed, **stored.unreadable}


def _redacted(channel: Channel, config: JsonObject) -> JsonObject:
    secrets = REGISTRY[channel].secret_fields
    return {k: REDACTED if k in secrets and v else v for k, v in config.items()}


def _view(channel: Channel, stored: Stored) -> ChannelView:
    return ChannelView(
        channel=channel,
        enabled=stored.enabled,
        config=_redacted(channel, {**stored.plain, **stored.unreadable}),
        readiness=parsed(channel, stored)[1],
    )


async def list_channels(*, tenant_id: UUID, box: SecretBox) -> list[ChannelView]:
    return [_view(channel, await _stored(tenant_id, channel, box)) for channel in CONFIGURABLE]


async def update(
    *,
    tenant_id: UUID,
    channel: Channel,
    enabled: bool | None,
    config: JsonValue | None,
    box: SecretBox,
    allow_private_targets: bool,
) -> ChannelView:
    """A secret left out, or sent back redacted, keeps its stored value. A target Belfry
    may not connect to is refused now rather than at the first send. The config is kept as
    its provider's model reads it."""
    channel = _provider_channel(channel)
    stored = await _stored(tenant_id, channel, box)
    if config is not None:
        checked = _parse(channel, _merged(channel, config, stored))
        await _check_target(channel, checked, allow_private=allow_private_targets)
        stored = Stored(enabled=stored.enabled, plain=_settings(checked), unreadable={})
    if enabled is not None:
        stored = replace(stored, enabled=enabled)
    await ChannelConfig.update_or_create(
        tenant_id=tenant_id,
        channel=channel,
        defaults={
            "enabled": stored.enabled,
            "config": json.dumps(_seal_secrets(box, channel, stored)),
        },
    )
    return _view(channel, stored)


def _parse(channel: Channel, stored: Stored) -> BaseModel | None:
    """The provider's config, None where there is none; BadUserInput naming what is wrong."""
    try:
        return REGISTRY[channel].parse_config(stored.plain)
    except ValueError as error:
        raise BadUserInput(f"Invalid {channel.value} config: {error}", field="config") from error


def _settings(config: BaseModel | None) -> JsonObject:
    """What a config says, as the API names its keys: the keys it was given, no defaults."""
    if config is None:
        return {}
    settings: JsonObject = config.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return settings


async def _check_target(channel: Channel, config: BaseModel | None, *, allow_private: bool) -> None:
    """BadUserInput naming the config key when Belfry may not connect where it says. A key
    left out keeps its default, a public service, and is not looked up."""
    field = REGISTRY[channel].target_field
    value = _settings(config).get(field)
    if not isinstance(value, str):
        return
    try:
        await check_target(value.strip(), allow_private=allow_private)
    except UnsafeTarget as refusal:
        raise BadUserInput(
            f"{channel.value} config.{field} is refused: {refusal}", field=f"config.{field}"
        ) from None


def _check_config(config: JsonValue) -> JsonObject:
    """A config is a JSON object of settings; the JSON scalar lets any JSON value through."""
    if not isinstance(config, dict):
        raise BadUserInput(
            'config must be a JSON object of settings, such as {"url": "https://..."}',
            field="config",
        )
    check_json("config", config, max_bytes=MAX_CONFIG_BYTES)
    return config


def _merged(channel: Channel, given: JsonValue, current: Stored) -> Stored:
    """`given` in place of the stored config, a secret left out or redacted keeping its
    stored value; refused when that value cannot be read, since it could not be checked."""
    merged = dict(_check_config(given))
    for key in REGISTRY[channel].secret_fields:
        if merged.get(key) not in (None, REDACTED):
            continue
        if key in current.unreadable:
            raise BadUserInput(
                f"The stored {channel.value} config.{key} cannot be read with "
                "BELFRY_SECRET_KEY (SECRET_UNREADABLE): send it again",
                field=f"config.{key}",
            )
        if key in current.plain:
            merged[key] = current.plain[key]
    return Stored(enabled=current.enabled, plain=merged, unreadable={})


async def unready(*, tenant_id: UUID, box: SecretBox, wanted: set[Channel]) -> dict[Channel, str]:
    """Why each of the `wanted` channels could not send, enabled or not: e.g.
    SMS_NOT_CONFIGURED. Channels that could are left out; in-app always can."""
    loaded = await load(tenant_id=tenant_id, box=box)
    reasons = {}
    for channel in sorted(wanted - ALWAYS_ON):
        readiness = loaded[channel].readiness
        if not readiness.ready:
            reasons[channel] = readiness.reason or "NOT_CONFIGURED"
    return reasons


class _Enabled(TypedDict):
    channel: Channel


async def enabled_channels(*, tenant_id: UUID) -> set[Channel]:
    rows = await select_rows(ChannelConfig, _Enabled, {"tenant_id": tenant_id, "enabled": True})
    return {Channel(row["channel"]) for row in rows} | ALWAYS_ON


async def send_test(
    *,
    tenant_id: UUID,
    channel: Channel,
    config: JsonValue | None,
    target: Target,
    box: SecretBox,
    context: SendContext,
) -> bool:
    """Sends a real message with the stored config, or with `config` laid over it."""
    channel = _provider_channel(channel)
    stored = await _stored(tenant_id, channel, box)
    if config is not None:
        stored = _merged(channel, config, stored)
    provider = REGISTRY[channel]
    _parse(channel, stored)
    checked, readiness = parsed(channel, stored)
    if checked is None or not readiness.ready:
        raise BadUserInput(
            f"{channel.value} is not configured ({readiness.reason})", field="config"
        )
    await _check_target(channel, checked, allow_private=context.allow_private_targets)
    message = Message(
        delivery_id=f"test-{uuid4()}",
        category="system.test",
        title="Belfry test message",
        body=f"This is a test of the {channel.value} channel.",
        link=None,
        data=None,
        created_at=clock.now(),
    )
    result = await provider.send(message, provider.test_target(target, checked), checked, context)
    if not result.ok:
        raise BadUserInput(f"Test send failed: {result.error}", field="config")
    return True
