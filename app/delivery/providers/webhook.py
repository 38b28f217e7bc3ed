"""Webhooks: a JSON POST (or PUT) to the tenant's URL, signed per Standard Webhooks
(https://www.standardwebhooks.com) when a signing secret is configured."""

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import ClassVar, Literal

import httpx
from pydantic import Field, field_validator

from app import clock
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

# RFC 9110 field names are tokens; values must not break out of their line.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SECRET_PREFIX = "whsec_"


class WebhookConfig(ConfigModel):
    url: HttpUrl
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    signing_secret: str | None = Field(default=None, alias="signingSecret")

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"invalid header name {name!r}")
            if any(char in value for char in "\r\n\0"):
                raise ValueError(f"header {name!r} has a line break in its value")
        return headers


class WebhookProvider(Provider[WebhookConfig]):
    kind: ClassVar[Channel] = Channel.WEBHOOK
    target_kind: ClassVar[TargetKind] = TargetKind.ENDPOINT
    # Machine to machine: a receiver has no night's sleep to keep.
    held_by_quiet_hours: ClassVar[bool] = False
    member_testable: ClassVar[bool] = False
    config_model: ClassVar[type[WebhookConfig]] = WebhookConfig
    # Headers often carry a shared secret (the source's example: {"X-Secret": "token"}).
    secret_fields: ClassVar[frozenset[str]] = frozenset({"signingSecret", "headers"})
    not_configured: ClassVar[str] = "WEBHOOK_NOT_CONFIGURED"
    target_field: ClassVar[str] = "url"

    async def send(
        self, message: Message, target: Target, config: WebhookConfig, ctx: SendContext
    ) -> SendResult:
        # Serialised once: the signature covers exactly the bytes that are sent.
        body = json.dumps(payload(message, target), separators=(",", ":"), ensure_ascii=False)
        headers = httpx.Headers(config.headers)
        # Set after the configured ones, so those cannot replace them.
        headers["content-type"] = "application/json"
        headers["webhook-id"] = message.delivery_id  # the receiver's idempotency key
        if config.signing_secret:
            timestamp = int(clock.now().timestamp())
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(
                config.signing_secret, message.delivery_id, timestamp, body
            )
        return await http_send(
            ctx, config.method, config.url, content=body.encode(), headers=headers
        )


def payload(message: Message, target: Target) -> dict[str, object]:
    return {
        "id": message.delivery_id,
        "type": message.category,
        "timestamp": message.created_at.isoformat(),
        "data": {
            "title": message.title,
            "body": message.body,
            "link": message.link,
            "data": message.data,
            "priority": message.priority,
            "actions": message.actions,
            "tags": message.tags,
            "notificationId": message.notification_id,
            "ruleId": message.rule_id,
            "recipient": {
                "externalId": target.external_id,
                "email": target.email,
                "name": target.name,
            },
        },
    }


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The Standard Webhooks `webhook-signature` value (scheme v1, HMAC-SHA256)."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signing_key(secret: str) -> bytes:
    """The key bytes: base64 after an optional "whsec_" prefix, else the text itself."""
    encoded = secret.removeprefix(_SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return encoded.encode()
