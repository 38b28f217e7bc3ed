"""Email against a real SMTP server (aiosmtpd) on loopback."""

from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from app.delivery.providers.base import Target
from app.delivery.providers.email import EmailConfig, EmailProvider
from tests.delivery.helpers import TARGET, Mailbox, context, free_port, make_message

provider = EmailProvider()


def config_for(port: int, **changes: Any) -> EmailConfig:
    raw = {"host": "127.0.0.1", "port": port, "from": "Belfry <noreply@belfry.test>", "tls": False}
    config = provider.parse_config(raw | changes)
    assert config is not None
    return config


def part(email: EmailMessage, content_type: str) -> str:
    found = email.get_body(preferencelist=(content_type.split("/")[1],))
    assert found is not None and found.get_content_type() == content_type
    content = found.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # SMTP carries CRLF line ends


async def test_sends_text_and_html_alternatives(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient
) -> None:
    mailbox, port = smtp
    message = make_message(
        title="Low balance <b>now</b>",
        body="Top up & <b>relax</b>.\nSecond line",
        link="https://app.example.com/billing?a=1&b=2",
    )
    result = await provider.send(message, TARGET, config_for(port), context(http))

    assert result.ok, result
    assert mailbox.envelopes[0].mail_from == "noreply@belfry.test"
    assert mailbox.envelopes[0].rcpt_tos == ["ada@example.com"]
    email = mailbox.received()
    assert email["From"] == "Belfry <noreply@belfry.test>"
    assert email["To"] == "ada@example.com"
    assert email["Subject"] == "Low balance <b>now</b>"
    assert email.get_content_type() == "multipart/alternative"
    text = part(email, "text/plain")
    assert "Top up & <b>relax</b>.\nSecond line" in text
    assert "https://app.example.com/billing?a=1&b=2" in text.splitlines()
    html = part(email, "text/html")
    assert "Top up &amp; &lt;b&gt;relax&lt;/b&gt;.<br>" in html
    assert "<b>" not in html
    assert '<a href="https://app.example.com/billing?a=1&amp;b=2">' in html


async def test_a_script_link_is_not_made_clickable(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient
) -> None:
    mailbox, port = smtp
    message = make_message(link="javascript:alert(1)")
    assert (await provider.send(message, TARGET, config_for(port), context(http))).ok
    html = part(mailbox.received(), "text/html")
    assert "javascript:alert(1)" in html and "href" not in html


async def test_a_recipient_without_email_is_a_permanent_failure(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient
) -> None:
    mailbox, port = smtp
    result = await provider.send(
        make_message(), Target(phone="+15550100"), config_for(port), context(http)
    )
    assert (result.ok, result.retry, result.error) == (
        False,
        False,
        "recipient has no email address",
    )
    assert mailbox.envelopes == []


@pytest.mark.parametrize(
    ("reply", "retry"), [("451 4.3.0 Try again later", True), ("550 5.1.1 No such user", False)]
)
async def test_smtp_replies_decide_retry(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient, reply: str, retry: bool
) -> None:
    mailbox, port = smtp
    mailbox.reply = reply
    result = await provider.send(make_message(), TARGET, config_for(port), context(http))
    assert not result.ok
    assert result.retry is retry
    assert result.error == f"SMTP {reply[:3]}: {reply[4:]}"


async def test_starttls_the_server_lacks_is_a_permanent_failure(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient
) -> None:
    _, port = smtp
    result = await provider.send(make_message(), TARGET, config_for(port, tls=True), context(http))
    assert not result.ok and not result.retry


async def test_an_unreachable_server_is_retried(http: httpx.AsyncClient) -> None:
    result = await provider.send(
        make_message(), TARGET, config_for(free_port()), context(http, timeout=1)
    )
    assert (result.ok, result.retry, result.error) == (False, True, "connection failed")


def test_readiness() -> None:
    assert provider.parse_config(None) is None
    assert provider.parse_config({}) is None
    not_ready = provider.readiness(None)
    assert (not_ready.ready, not_ready.reason) == (False, "SMTP_NOT_CONFIGURED")
    assert provider.readiness(config_for(25)).ready


def test_config_defaults() -> None:
    config = provider.parse_config({"host": "smtp.example.com", "from": "a@example.com"})
    assert config is not None
    assert (config.port, config.tls, config.ssl) == (587, True, False)
