"""Slack through an incoming webhook URL (which is itself the credential)."""

from typing import ClassVar

from pydantic import Field

from app.delivery.providers.base import (
    ConfigModel,
    HttpUrl,
    Message,
    Provider,
    SendContext,
    SendResult,
    Target,
    TargetKind,
    http_send,
)
from app.models.channels import Channel


class SlackConfig(ConfigModel):
    webhook_url: HttpUrl = Field(alias="webhookUrl")


class SlackProvider(Provider[SlackConfig]):
    kind: ClassVar[Channel] = Channel.SLACK
    target_kind: ClassVar[TargetKind] = TargetKind.ENDPOINT
    # People read it, in a channel they share: it waits for their quiet hours to end.
    held_by_quiet_hours: ClassVar[bool] = True
    member_testable: ClassVar[bool] = False
    config_model: ClassVar[type[SlackConfig]] = SlackConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"webhookUrl"})
    not_configured: ClassVar[str] = "SLACK_NOT_CONFIGURED"
    target_field: ClassVar[str] = "webhookUrl"

    async def send(
        self, message: Message, target: Target, config: SlackConfig, ctx: SendContext
    ) -> SendResult:
        return await http_send(ctx, "POST", config.webhook_url, json={"text": slack_text(message)})


def slack_text(message: Message) -> str:
    """Bold title, then body and link, each on its own line when present."""
    lines = [f"*{_escape(message.title)}*"] if message.title else []
    lines += [_escape(part) for part in (message.body, message.link) if part]
    return "\n".join(lines)


def _escape(text: str) -> str:
    # Slack's required escaping: also stops a title from smuggling in <!channel> mentions.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
