"""Each tenant's channel settings: enabled or not, the provider config, secrets sealed."""

import json
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid4

from app import clock
from app.crypto import SecretBox
from app.db import select_rows
from app.delivery.configs import Stored, load, opened, parsed
from app.delivery.providers import REGISTRY
from app.delivery.providers.base import Message, Readiness, SendContext, Target
from app.delivery.targets import UnsafeTarget, check_target
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
    config: dict[str, Any]  # secrets redacted
    readiness: Readiness


def _provider_channel(channel: Channel) -> Channel:
    if not REGISTRY[channel].configurable:
        raise BadUserInput(f"The {channel.value} channel needs no configuration", field="channel")
    return channel


async def _stored(tenant_id: UUID, channel: Channel, box: SecretBox) -> Stored:
    row = await ChannelConfig.get_or_none(tenant_id=tenant_id, channel=channel)
    return opened(box, channel, row)


def _seal_secrets(box: SecretBox, channel: Channel, stored: Stored) -> dict[str, Any]:
    """Secret values of any JSON shape (a token, a dict of headers) are sealed as JSON."""
    secrets = REGISTRY[channel].secret_fields
    sealed = {
        k: box.seal(json.dumps(v)) if k in secrets and v is not None else v
        for k, v in stored.plain.items()
    }
    return {**sealed, **stored.unreadable}


def _redacted(channel: Channel, config: dict[str, Any]) -> dict[str, Any]:
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
    config: dict[str, Any] | None,
    box: SecretBox,
    allow_private_targets: bool,
) -> ChannelView:
    """A secret left out, or sent back redacted, keeps its stored value. A target Belfry
    may not connect to is refused now rather than at the first send."""
    channel = _provider_channel(channel)
    stored = await _stored(tenant_id, channel, box)
    if config is not None:
        stored = _merged(channel, config, stored)
        try:
            REGISTRY[channel].parse_config(stored.plain)
        except ValueError as error:
            raise BadUserInput(
                f"Invalid {channel.value} config: {error}", field="config"
            ) from error
        await _check_target(channel, stored.plain, allow_private=allow_private_targets)
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


async def _check_target(channel: Channel, plain: dict[str, Any], *, allow_private: bool) -> None:
    """BadUserInput naming the config key when Belfry may not connect where it says. A key
    left out keeps its default, a public service, and is not looked up."""
    field = REGISTRY[channel].target_field
    value = plain.get(field)
    if not isinstance(value, str):
        return
    try:
        await check_target(value.strip(), allow_private=allow_private)
    except UnsafeTarget as refusal:
        raise BadUserInput(
            f"{channel.value} config.{field} is refused: {refusal}", field=f"config.{field}"
        ) from None


def _check_config(config: Any) -> None:
    """A config is a JSON object of settings; the JSON scalar lets any JSON value through."""
    if not isinstance(config, dict):
        raise BadUserInput(
            'config must be a JSON object of settings, such as {"url": "https://..."}',
            field="config",
        )
    check_json("config", config, max_bytes=MAX_CONFIG_BYTES)


def _merged(channel: Channel, given: Any, current: Stored) -> Stored:
    """`given` in place of the stored config, a secret left out or redacted keeping its
    stored value; refused when that value cannot be read, since it could not be checked."""
    _check_config(given)
    merged = dict(given)
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


async def enabled_channels(*, tenant_id: UUID) -> set[Channel]:
    rows = await select_rows(ChannelConfig, ["channel"], {"tenant_id": tenant_id, "enabled": True})
    return {Channel(str(row["channel"])) for row in rows} | ALWAYS_ON


async def send_test(
    *,
    tenant_id: UUID,
    channel: Channel,
    config: dict[str, Any] | None,
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
    try:
        provider.parse_config(stored.plain)
    except ValueError as error:
        raise BadUserInput(f"Invalid {channel.value} config: {error}", field="config") from error
    checked, readiness = parsed(channel, stored)
    if checked is None or not readiness.ready:
        raise BadUserInput(
            f"{channel.value} is not configured ({readiness.reason})", field="config"
        )
    await _check_target(channel, stored.plain, allow_private=context.allow_private_targets)
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
