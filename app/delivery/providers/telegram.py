"""Telegram through the Bot API's sendMessage.

The bot token is part of every request URL, so no error text is ever built from the URL or
from httpx's messages: only from status codes."""

import json
from typing import ClassVar
from urllib.parse import quote

from pydantic import Field

from app.delivery.providers.base import (
    ConfigModel,
    HttpUrl,
    Message,
    NonEmptyStr,
    Provider,
    SendContext,
    SendResult,
    Target,
    TargetKind,
    classify,
    failed,
    http_request,
    plain_text,
)
from app.models.channels import Channel

MAX_TEXT = 4096  # Telegram rejects longer messages outright


class TelegramConfig(ConfigModel):
    bot_token: NonEmptyStr = Field(alias="botToken")
    chat_id: int | NonEmptyStr = Field(alias="chatId")  # numeric id or "@channelname"
    api_base_url: HttpUrl = Field(default="https://api.telegram.org", alias="apiBaseUrl")


class TelegramProvider(Provider[TelegramConfig]):
    kind: ClassVar[Channel] = Channel.TELEGRAM
    target_kind: ClassVar[TargetKind] = TargetKind.ENDPOINT
    # People read it, in a channel they share: it waits for their quiet hours to end.
    held_by_quiet_hours: ClassVar[bool] = True
    member_testable: ClassVar[bool] = False
    config_model: ClassVar[type[TelegramConfig]] = TelegramConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"botToken"})
    not_configured: ClassVar[str] = "TELEGRAM_NOT_CONFIGURED"
    target_field: ClassVar[str] = "apiBaseUrl"

    async def send(
        self, message: Message, target: Target, config: TelegramConfig, ctx: SendContext
    ) -> SendResult:
        token = quote(config.bot_token, safe=":")  # tokens look like "123456:ABC-def"
        url = f"{config.api_base_url.rstrip('/')}/bot{token}/sendMessage"
        text = plain_text(message)[:MAX_TEXT]
        outcome = await http_request(
            ctx, "POST", url, json={"chat_id": config.chat_id, "text": text}
        )
        if isinstance(outcome, SendResult):
            return outcome
        result = classify(outcome)
        if result.ok and not _answered_ok(outcome.content):
            # A 2xx without {"ok": true} is not a delivered message.
            return failed("telegram answered ok=false")
        return result


def _answered_ok(content: bytes) -> bool:
    try:
        answer = json.loads(content)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("ok") is True
