"""Email over SMTP (aiosmtplib): a plain text and an HTML alternative of the same message.

SMTP relays usually sit on the private network, so their addresses are not checked."""

import html
import re
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

import aiosmtplib
from pydantic import AfterValidator, Field

from app.delivery.providers.base import (
    SENT,
    ConfigModel,
    Message,
    NonEmptyStr,
    Provider,
    SendContext,
    SendResult,
    Target,
    failed,
    retryable,
)
from app.models.channels import Channel

# Schemes an email client may follow from a link; others (javascript:, data:) stay text.
_LINKABLE_SCHEMES = frozenset({"", "http", "https", "mailto"})


def _sender(value: str) -> str:
    if "\r" in value or "\n" in value or "@" not in parseaddr(value)[1]:
        raise ValueError("must be an email address, optionally with a display name")
    return value


class EmailConfig(ConfigModel):
    host: NonEmptyStr
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    from_: Annotated[NonEmptyStr, AfterValidator(_sender)] = Field(alias="from")
    tls: bool = True  # STARTTLS after connecting
    ssl: bool = False  # implicit TLS from the first byte (port 465); tls is then ignored


class EmailProvider(Provider[EmailConfig]):
    kind: ClassVar[Channel] = Channel.EMAIL
    config_model: ClassVar[type[EmailConfig]] = EmailConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password"})
    not_configured: ClassVar[str] = "SMTP_NOT_CONFIGURED"

    async def send(
        self, message: Message, target: Target, config: EmailConfig, ctx: SendContext
    ) -> SendResult:
        if not target.email:
            return failed("recipient has no email address")
        try:
            email = build_email(message, config.from_, target.email)
        except ValueError:  # the email package refuses malformed addresses
            return failed("invalid email address")
        try:
            await aiosmtplib.send(
                email,
                sender=parseaddr(config.from_)[1],
                recipients=[target.email],
                hostname=config.host,
                port=config.port,
                # aiosmtplib logs in whenever a username is given.
                username=config.username or None,
                password=(config.password or "") if config.username else None,
                use_tls=config.ssl,
                start_tls=config.tls and not config.ssl,
                timeout=ctx.timeout,
            )
        except aiosmtplib.SMTPException as error:
            return smtp_failure(error)
        except OSError:
            return retryable("connection failed")
        return SENT


def smtp_failure(error: aiosmtplib.SMTPException) -> SendResult:
    """4xx replies and lost or slow connections are transient; 5xx replies are final."""
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _reply_failure(error.code, error.message)
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        refused = error.recipients[0]
        return _reply_failure(refused.code, refused.message)
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return retryable("timeout")
    if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return retryable("connection failed")
    # e.g. STARTTLS or AUTH not offered by the server: a configuration problem.
    return failed(f"SMTP error: {_short(error.message)}")


def _reply_failure(code: int, text: str) -> SendResult:
    error = f"SMTP {code}: {_short(text)}"
    return retryable(error) if 400 <= code < 500 else failed(error)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_email(message: Message, sender: str, recipient: str) -> EmailMessage:
    email = EmailMessage()
    # Header values may not contain line breaks; a multi-line title becomes one line.
    email["Subject"] = " ".join(message.title.split())
    email["From"] = sender
    email["To"] = recipient
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = _message_id(message.delivery_id, sender)
    email.set_content(_text_part(message))
    email.add_alternative(_html_part(message), subtype="html")
    return email


def _message_id(delivery_id: str, sender: str) -> str:
    # Derived from the delivery, so a retried send can be recognised as the same message.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "belfry.invalid"
    local = re.sub(r"[^A-Za-z0-9._-]", "-", delivery_id) or "delivery"
    return f"<{local}@{domain}>"


def _text_part(message: Message) -> str:
    lines = [message.body or message.title]
    if message.link:
        lines.append(message.link)
    return "\n\n".join(lines) + "\n"


def _html_part(message: Message) -> str:
    text = html.escape(message.body or message.title).replace("\n", "<br>\n")
    paragraphs = [f"<p>{text}</p>"]
    if message.link:
        paragraphs.append(f"<p>{_html_link(message.link)}</p>")
    return "<!doctype html>\n<html><body>\n" + "\n".join(paragraphs) + "\n</body></html>\n"


def _html_link(link: str) -> str:
    shown = html.escape(link)
    if urlsplit(link).scheme.lower() not in _LINKABLE_SCHEMES:
        return shown
    return f'<a href="{html.escape(link, quote=True)}">{shown}</a>'
