"""The channel providers, one module per channel, and the registry that picks one.

The in-app inbox is not a provider: publishing writes it directly."""

from typing import Any

from app.delivery.providers.base import Provider
from app.delivery.providers.email import EmailProvider
from app.delivery.providers.slack import SlackProvider
from app.delivery.providers.sms import SmsProvider
from app.delivery.providers.telegram import TelegramProvider
from app.delivery.providers.webhook import WebhookProvider
from app.models.channels import Channel

REGISTRY: dict[Channel, Provider[Any]] = {
    provider.kind: provider
    for provider in (
        EmailProvider(),
        SmsProvider(),
        WebhookProvider(),
        SlackProvider(),
        TelegramProvider(),
    )
}


def get(channel: Channel) -> Provider[Any]:
    """The provider for `channel`; KeyError for IN_APP, which has none."""
    return REGISTRY[channel]


__all__ = ["REGISTRY", "Provider", "get"]
