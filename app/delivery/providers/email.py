"""Email over SMTP (aiosmtplib): a plain text and an HTML alternative of the same message.

The SMTP host is a target like any URL: private addresses are refused unless allowed, and the
connection goes to the address that was checked. Nothing the server says is ever quoted in an
error, since a tenant could point the host at any service and read its greeting back."""

import asyncio
import contextlib
import html
import re
import socket
import ssl
from dataclasses import replace
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Annotated, ClassVar, Literal
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
    TargetKind,
    failed,
    retryable,
)
from app.delivery.targets import IPAddress, UnsafeTarget, checked_addresses
from app.models.channels import Channel

# What the client was doing when the conversation failed; it names the error.
Step = Literal["connect", "tls", "login", "send"]

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
    target_kind: ClassVar[TargetKind] = TargetKind.ADDRESS
    held_by_quiet_hours: ClassVar[bool] = True
    member_testable: ClassVar[bool] = True
    address_field: ClassVar[Literal["email"]] = "email"
    config_model: ClassVar[type[EmailConfig]] = EmailConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password"})
    not_configured: ClassVar[str] = "SMTP_NOT_CONFIGURED"
    target_field: ClassVar[str] = "host"

    def recognises(self, address: str) -> bool:
        return "@" in address

    def test_target(self, target: Target, config: EmailConfig) -> Target:
        # A caller with no address of their own (an API key) tests on the sender address.
        return target if target.email else replace(target, email=config.from_)

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
            addresses = await checked_addresses(
                config.host, allow_private=ctx.allow_private_targets
            )
        except UnsafeTarget as refusal:
            return failed(f"target refused: {refusal}")
        if not addresses:
            return retryable("host not found")
        connected = await _connect(addresses, config.port, ctx)
        if isinstance(connected, SendResult):
            return connected
        return await _converse(connected, email, config, target.email, ctx)


async def _connect(
    addresses: list[IPAddress], port: int, ctx: SendContext
) -> socket.socket | SendResult:
    """A socket connected to the first checked address that answers."""
    loop = asyncio.get_running_loop()
    for address in addresses:
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (str(address), port)), ctx.timeout)
        except TimeoutError:
            sock.close()
            return retryable("timeout")
        except OSError:
            sock.close()
            continue
        return sock
    return retryable("connection failed")


async def _converse(
    sock: socket.socket, email: EmailMessage, config: EmailConfig, recipient: str, ctx: SendContext
) -> SendResult:
    # Given the socket, aiosmtplib still verifies TLS against the configured host name.
    smtp = aiosmtplib.SMTP(
        hostname=config.host, sock=sock, use_tls=config.ssl, start_tls=False, timeout=ctx.timeout
    )
    step: Step = "connect"
    try:
        await smtp.connect()
        if config.tls and not config.ssl:
            step = "tls"
            await smtp.starttls()
        if config.username:
            step = "login"
            await smtp.login(config.username, config.password or "")
        step = "send"
        await smtp.send_message(email, sender=parseaddr(config.from_)[1], recipients=[recipient])
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()  # the message is accepted whatever QUIT gets
    except aiosmtplib.SMTPException as error:
        return smtp_failure(error, step)
    except ssl.SSLError:
        return failed("TLS failed")
    except OSError:
        return retryable("connection failed")
    finally:
        # The client owns the socket now: its transport closes it, after any TLS shutdown.
        smtp.close()
    return SENT


def smtp_failure(error: aiosmtplib.SMTPException, step: Step) -> SendResult:
    """A fixed text for what failed at `step`: 4xx replies and lost or slow connections are
    transient, the rest final."""
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return retryable("timeout")
    if isinstance(error.__cause__, ssl.SSLError):
        return failed("TLS failed")  # implicit TLS fails while connecting
    code = _reply_code(error)
    if code is None and isinstance(error, ConnectionError):  # lost, or never made
        return retryable("connection failed")
    if step == "tls":
        return failed("TLS failed")  # including a server that does not offer STARTTLS
    if step == "login":
        return _by_code("authentication failed", code)
    if code is not None and not 200 <= code <= 599:
        return failed("not an SMTP server")  # aiosmtplib could not read its reply at all
    what = "connection" if step == "connect" else "message"
    return _by_code(f"SMTP server refused the {what}", code)


def _reply_code(error: aiosmtplib.SMTPException) -> int | None:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        return error.recipients[0].code
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code
    return None


def _by_code(error: str, code: int | None) -> SendResult:
    if code is None or not 200 <= code <= 599:
        return failed(error)
    text = f"{error} ({code})"
    return retryable(text) if 400 <= code < 500 else failed(text)


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
