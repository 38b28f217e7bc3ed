"""Email against a real SMTP server (aiosmtpd) on loopback."""

import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import AuthResult

from app.delivery.providers.base import SendContext, Target
from app.delivery.providers.email import EmailConfig, EmailProvider
from app.encoding import JsonObject, JsonValue
from tests.delivery.helpers import (
    BANNER,
    PUBLIC_ADDRESS,
    TARGET,
    Mailbox,
    banner_server,
    context,
    free_port,
    make_message,
    rebinding,
    self_signed,
    smtp_server,
)

provider = EmailProvider()


def config_for(port: int, **changes: JsonValue) -> EmailConfig:
    raw: JsonObject = {
        "host": "127.0.0.1",
        "port": port,
        "from": "Belfry <noreply@belfry.test>",
        "tls": False,
    }
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
    assert result.error == f"SMTP server refused the message ({reply[:3]})"


async def test_starttls_the_server_lacks_is_a_permanent_failure(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient
) -> None:
    _, port = smtp
    result = await provider.send(make_message(), TARGET, config_for(port, tls=True), context(http))
    assert (result.ok, result.retry, result.error) == (False, False, "TLS failed")


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


# --- where it connects, and what it says when that fails -----------------------------------


def strict(http: httpx.AsyncClient, *, timeout: float = 2) -> SendContext:
    """Production's context: private targets refused."""
    return SendContext(http=http, allow_private_targets=False, timeout=timeout)


async def test_a_private_smtp_host_is_refused_unless_allowed(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient
) -> None:
    mailbox, port = smtp

    started = time.monotonic()
    result = await provider.send(make_message(), TARGET, config_for(port), strict(http))

    assert (result.ok, result.retry, result.error) == (
        False,
        False,
        "target refused: private or loopback address",
    )
    assert time.monotonic() - started < 1
    assert mailbox.envelopes == []


async def test_a_metadata_host_is_refused_even_when_private_targets_are_allowed(
    http: httpx.AsyncClient,
) -> None:
    config = config_for(25, host="169.254.169.254")

    result = await provider.send(make_message(), TARGET, config, context(http))

    assert (result.ok, result.retry, result.error) == (
        False,
        False,
        "target refused: cloud metadata address",
    )


async def test_a_peer_that_is_not_smtp_is_never_quoted(http: httpx.AsyncClient) -> None:
    async with banner_server() as port:
        result = await provider.send(make_message(), TARGET, config_for(port), context(http))

    assert (result.ok, result.retry, result.error) == (False, False, "not an SMTP server")


async def test_a_greeting_that_refuses_is_reported_by_its_code_alone(
    http: httpx.AsyncClient,
) -> None:
    async with banner_server(b"554 5.3.2 " + BANNER) as port:
        result = await provider.send(make_message(), TARGET, config_for(port), context(http))

    assert (result.ok, result.retry, result.error) == (
        False,
        False,
        "SMTP server refused the connection (554)",
    )


def refuse_everyone(*_: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


async def test_a_refused_login_is_an_authentication_failure(http: httpx.AsyncClient) -> None:
    with smtp_server(authenticator=refuse_everyone, auth_require_tls=False) as (mailbox, port):
        config = config_for(port, username="ada", password="wrong")
        result = await provider.send(make_message(), TARGET, config, context(http))

    assert (result.ok, result.retry, result.error) == (
        False,
        False,
        "authentication failed (535)",
    )
    assert mailbox.envelopes == []


async def test_a_host_name_is_connected_at_the_address_it_was_checked_at(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient
) -> None:
    mailbox, port = smtp

    result = await provider.send(
        make_message(), TARGET, config_for(port, host="localhost"), context(http)
    )

    assert result.ok, result
    assert mailbox.received()["To"] == "ada@example.com"


async def test_a_name_that_changes_its_answer_after_the_check_is_not_followed(
    smtp: tuple[Mailbox, int], http: httpx.AsyncClient
) -> None:
    # given a name that answers a public address to the check, then loopback
    mailbox, port = smtp
    config = config_for(port, host="mail.rebind.test")

    with rebinding("mail.rebind.test", first=PUBLIC_ADDRESS, then="127.0.0.1") as answers:
        result = await provider.send(make_message(), TARGET, config, strict(http, timeout=0.5))

    # then the send went to the public address alone, and the loopback server heard nothing
    assert not result.ok and result.retry
    assert answers == [PUBLIC_ADDRESS]
    assert mailbox.envelopes == []


# TLS from the first byte, or STARTTLS, each as the server side of aiosmtpd takes it.
TLS_MODES = {
    "ssl": lambda cert: {"ssl_context": cert.server_context()},
    "tls": lambda cert: {"tls_context": cert.server_context(), "require_starttls": True},
}


@pytest.mark.parametrize("mode", TLS_MODES)
async def test_tls_is_verified_against_the_host_name_while_connecting_to_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http: httpx.AsyncClient, mode: str
) -> None:
    # given an SMTP server whose certificate names "localhost" and no address, and trusted
    certificate = self_signed(tmp_path, "localhost")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_file))
    options = TLS_MODES[mode](certificate)

    with smtp_server(**options) as (mailbox, port):
        by_name = config_for(port, host="localhost", **{mode: True})
        by_address = config_for(port, host="127.0.0.1", **{mode: True})
        sent = await provider.send(make_message(), TARGET, by_name, context(http))
        refused = await provider.send(make_message(), TARGET, by_address, context(http))

    # then the name passes verification, and the bare address does not
    assert sent.ok, sent
    assert len(mailbox.envelopes) == 1
    assert (refused.ok, refused.retry, refused.error) == (False, False, "TLS failed")
