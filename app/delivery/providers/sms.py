"""SMS through Twilio's Messages API, or any service that speaks it (apiBaseUrl)."""

import re
from typing import ClassVar, Literal
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
    failed,
    http_send,
)
from app.models.channels import Channel

# E.164: a bare run of digits is an external user id (many products number their users).
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SmsConfig(ConfigModel):
    account_sid: NonEmptyStr = Field(alias="accountSid")
    auth_token: NonEmptyStr = Field(alias="authToken")
    from_: NonEmptyStr = Field(alias="from")
    api_base_url: HttpUrl = Field(default="https://api.twilio.com", alias="apiBaseUrl")


class SmsProvider(Provider[SmsConfig]):
    kind: ClassVar[Channel] = Channel.SMS
    target_kind: ClassVar[TargetKind] = TargetKind.ADDRESS
    held_by_quiet_hours: ClassVar[bool] = True
    member_testable: ClassVar[bool] = True
    address_field: ClassVar[Literal["phone"]] = "phone"
    config_model: ClassVar[type[SmsConfig]] = SmsConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"authToken"})
    not_configured: ClassVar[str] = "SMS_NOT_CONFIGURED"
    target_field: ClassVar[str] = "apiBaseUrl"

    def recognises(self, address: str) -> bool:
        return PHONE.match(address) is not None

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
