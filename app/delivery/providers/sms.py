"""SMS through Twilio's Messages API, or any service that speaks it (apiBaseUrl)."""

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
    failed,
    http_send,
)
from app.models.channels import Channel


class SmsConfig(ConfigModel):
    account_sid: NonEmptyStr = Field(alias="accountSid")
    auth_token: NonEmptyStr = Field(alias="authToken")
    from_: NonEmptyStr = Field(alias="from")
    api_base_url: HttpUrl = Field(default="https://api.twilio.com", alias="apiBaseUrl")


class SmsProvider(Provider[SmsConfig]):
    kind: ClassVar[Channel] = Channel.SMS
    config_model: ClassVar[type[SmsConfig]] = SmsConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"authToken"})
    not_configured: ClassVar[str] = "SMS_NOT_CONFIGURED"
    target_field: ClassVar[str] = "apiBaseUrl"

    async def send(
        self, message: Message, target: Target, config: SmsConfig, ctx: SendContext
    ) -> SendResult:
        if not target.phone:
            return failed("recipient has no phone number")
        # Quoted: the SID is tenant input and must not change the path.
        account = quote(config.account_sid, safe="")
        url = f"{config.api_base_url.rstrip('/')}/2010-04-01/Accounts/{account}/Messages.json"
        text = f"{message.title}\n{message.body}" if message.body else message.title
        return await http_send(
            ctx,
            "POST",
            url,
            data={"To": target.phone, "From": config.from_, "Body": text},
            auth=(config.account_sid, config.auth_token),
        )
