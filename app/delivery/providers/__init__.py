"""The channel providers, one module per channel, and the registry that finds each channel's.

Every set of channels elsewhere (held by quiet hours, reaching an endpoint, testable by a
member, configurable) is read from the providers' facts here. Installed packages add
channels through entry points (app.models.channels.PLUGIN_GROUP), each named after its
channel and pointing at its provider class."""

from collections.abc import Callable
from importlib.metadata import entry_points

from pydantic import BaseModel

from app.delivery.providers.base import Provider
from app.delivery.providers.email import EmailProvider
from app.delivery.providers.in_app import InAppProvider
from app.delivery.providers.slack import SlackProvider
from app.delivery.providers.sms import SmsProvider
from app.delivery.providers.telegram import TelegramProvider
from app.delivery.providers.webhook import WebhookProvider
from app.models.channels import PLUGIN_GROUP, Channel

BUILT_IN: tuple[Provider[BaseModel], ...] = (
    InAppProvider(),
    EmailProvider(),
    SmsProvider(),
    WebhookProvider(),
    SlackProvider(),
    TelegramProvider(),
)


def installed() -> list[Provider[BaseModel]]:
    """The providers of the channels installed packages add."""
    found = []
    for entry in entry_points(group=PLUGIN_GROUP):
        provider = entry.load()()
        if not isinstance(provider, Provider) or provider.kind != entry.name:
            raise TypeError(
                f"The {PLUGIN_GROUP} entry point {entry.name} must name a Provider class "
                f"whose kind is Channel.{entry.name}"
            )
        found.append(provider)
    return found


def _registry(providers: list[Provider[BaseModel]]) -> dict[Channel, Provider[BaseModel]]:
    """Each channel's provider, in the Channel enum's order; every channel has one."""
    by_kind = {provider.kind: provider for provider in providers}
    if missing := [channel.value for channel in Channel if channel not in by_kind]:
        raise TypeError(f"No provider for the channels {', '.join(missing)}")
    return {channel: by_kind[channel] for channel in Channel}


REGISTRY: dict[Channel, Provider[BaseModel]] = _registry([*BUILT_IN, *installed()])


def get(channel: Channel) -> Provider[BaseModel]:
    return REGISTRY[channel]


def channels_where(fact: Callable[[Provider[BaseModel]], bool]) -> frozenset[Channel]:
    """The channels whose providers state `fact`."""
    return frozenset(channel for channel, provider in REGISTRY.items() if fact(provider))


__all__ = ["BUILT_IN", "REGISTRY", "Provider", "channels_where", "get", "installed"]
