"""SMS, Slack, Telegram and webhooks against real HTTP receivers on loopback."""

import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.delivery.providers import REGISTRY
from app.delivery.providers.base import Provider, SendContext, SendResult, Target
from app.delivery.providers.slack import slack_text
from app.models.channels import Channel
from tests.delivery.helpers import (
    PUBLIC_ADDRESS,
    TARGET,
    Receiver,
    context,
    free_port,
    make_message,
    rebinding,
    receiving,
    self_signed,
)

BOT_TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SIGNING_SECRET = "whsec_" + base64.b64encode(b"sixteen byte key" * 2).decode()


def raw_config(channel: Channel, base_url: str) -> dict[str, Any]:
    """A working config of `channel` that sends to `base_url`."""
    configs: dict[Channel, dict[str, Any]] = {
        Channel.SMS: {
            "accountSid": "AC123",
            "authToken": "sms-secret",
            "from": "+15550199",
            "apiBaseUrl": base_url,
        },
        Channel.SLACK: {"webhookUrl": f"{base_url}/services/T0/B0/XYZ"},
        Channel.TELEGRAM: {"botToken": BOT_TOKEN, "chatId": -100200, "apiBaseUrl": base_url},
        Channel.WEBHOOK: {"url": f"{base_url}/hooks/belfry"},
    }
    return configs[channel]


async def send(
    channel: Channel,
    ctx: SendContext,
    base_url: str,
    target: Target = TARGET,
    **changes: Any,
) -> SendResult:
    provider: Provider[Any] = REGISTRY[channel]
    config = provider.parse_config(raw_config(channel, base_url) | changes)
    return await provider.send(make_message(), target, config, ctx)


HTTP_CHANNELS = [Channel.SMS, Channel.SLACK, Channel.TELEGRAM, Channel.WEBHOOK]

# --- each provider's request -------------------------------------------------------------


async def test_sms_posts_a_twilio_message(receiver: Receiver, http: httpx.AsyncClient) -> None:
    receiver.status = 201
    result = await send(Channel.SMS, context(http), receiver.url)

    assert result.ok, result
    request = receiver.only
    assert (request.method, request.path) == ("POST", "/2010-04-01/Accounts/AC123/Messages.json")
    assert (
        request.headers["authorization"]
        == "Basic " + base64.b64encode(b"AC123:sms-secret").decode()
    )
    assert request.form() == {
        "To": "+15550100",
        "From": "+15550199",
        "Body": "Your balance is getting low\nAbout 12 minutes remain.",
    }


async def test_sms_needs_a_phone_number(receiver: Receiver, http: httpx.AsyncClient) -> None:
    result = await send(Channel.SMS, context(http), receiver.url, Target(email="a@example.com"))
    assert (result.ok, result.retry, result.error) == (
        False,
        False,
        "recipient has no phone number",
    )
    assert receiver.requests == []


async def test_slack_posts_text(receiver: Receiver, http: httpx.AsyncClient) -> None:
    assert (await send(Channel.SLACK, context(http), receiver.url)).ok
    request = receiver.only
    assert request.path == "/services/T0/B0/XYZ"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "text": "*Your balance is getting low*\nAbout 12 minutes remain.\n"
        "https://app.example.com/billing"
    }


def test_slack_text_escapes_markup_and_skips_empty_parts() -> None:
    message = make_message(title="Hi <!channel> & all", body=None, link="https://x.test/?a=1&b=2")
    assert slack_text(message) == "*Hi &lt;!channel&gt; &amp; all*\nhttps://x.test/?a=1&amp;b=2"


async def test_telegram_sends_to_the_chat(receiver: Receiver, http: httpx.AsyncClient) -> None:
    assert (await send(Channel.TELEGRAM, context(http), receiver.url)).ok
    request = receiver.only
    assert request.path == f"/bot{BOT_TOKEN}/sendMessage"
    body = request.json()
    assert body["chat_id"] == -100200
    assert body["text"].startswith("Your balance is getting low\nAbout 12 minutes remain.")


async def test_telegram_failures_never_show_the_token(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    for status, reply in [(200, {"ok": False}), (200, "not json"), (401, {"ok": False})]:
        receiver.status, receiver.reply = status, reply
        result = await send(Channel.TELEGRAM, context(http), receiver.url)
        assert not result.ok and not result.retry, (status, reply)
        assert result.error and BOT_TOKEN not in result.error and "AAHdq" not in result.error


async def test_telegram_connection_errors_never_show_the_token(http: httpx.AsyncClient) -> None:
    result = await send(Channel.TELEGRAM, context(http), f"http://127.0.0.1:{free_port()}")
    assert result.retry and result.error == "connection failed"


async def test_webhook_body_and_headers(receiver: Receiver, http: httpx.AsyncClient) -> None:
    target = Target(email="ada@example.com", name="Ada", external_id="ada-1")
    result = await send(
        Channel.WEBHOOK,
        context(http),
        receiver.url,
        target,
        method="PUT",
        headers={"Authorization": "Bearer tenant-token", "Content-Type": "text/plain"},
    )

    assert result.ok, result
    request = receiver.only
    assert (request.method, request.path) == ("PUT", "/hooks/belfry")
    assert request.headers["authorization"] == "Bearer tenant-token"
    assert request.headers["content-type"] == "application/json"  # not the configured one
    assert request.headers["webhook-id"] == "msg_2Ka9ZqP"  # sent even unsigned
    assert "webhook-signature" not in request.headers
    assert b": " not in request.body and b", " not in request.body  # compact
    assert request.json() == {
        "id": "msg_2Ka9ZqP",
        "type": "billing.low_balance",
        "timestamp": "2025-01-02T03:04:05+00:00",
        "data": {
            "title": "Your balance is getting low",
            "body": "About 12 minutes remain.",
            "link": "https://app.example.com/billing",
            "data": {"balance": 3.5},
            "priority": "HIGH",
            "actions": [{"id": "top-up", "label": "Top up", "url": "/billing", "primary": True}],
            "tags": ["billing"],
            "notificationId": None,
            "ruleId": None,
            "recipient": {"externalId": "ada-1", "email": "ada@example.com", "name": "Ada"},
        },
    }


# --- Standard Webhooks signatures, checked by a verifier written from the spec -------------


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """Standard Webhooks verification, independent of the code under test."""
    raw = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        key = raw.encode()
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    to_sign = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest())
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return True
    return False


@pytest.mark.parametrize("secret", [SIGNING_SECRET, "plain-text secret!"])
async def test_webhook_signature_verifies(
    receiver: Receiver, http: httpx.AsyncClient, secret: str
) -> None:
    result = await send(Channel.WEBHOOK, context(http), receiver.url, signingSecret=secret)
    assert result.ok, result
    request = receiver.only
    assert request.headers["webhook-id"] == "msg_2Ka9ZqP"
    assert request.headers["webhook-timestamp"].isdigit()
    assert verify(secret, request.headers, request.body)
    # Tampering with the body, the id or the secret breaks it.
    assert not verify(secret, request.headers, request.body.replace(b"12", b"99"))
    assert not verify(secret, request.headers | {"webhook-id": "msg_other"}, request.body)
    assert not verify(
        "whsec_" + base64.b64encode(b"x" * 32).decode(), request.headers, request.body
    )


async def test_webhook_signature_covers_non_ascii_text(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    provider: Provider[Any] = REGISTRY[Channel.WEBHOOK]
    config = provider.parse_config(
        raw_config(Channel.WEBHOOK, receiver.url) | {"signingSecret": SIGNING_SECRET}
    )
    message = make_message(title="Solde bientôt épuisé ⚠")
    assert (await provider.send(message, TARGET, config, context(http))).ok
    request = receiver.only
    assert request.json()["data"]["title"] == "Solde bientôt épuisé ⚠"
    assert verify(SIGNING_SECRET, request.headers, request.body)


# --- classification, the same for every HTTP provider --------------------------------------


# (status, ok, retry, error); one receiver answers them all, as starting one costs 0.2 s.
STATUS_CASES = [
    (200, True, False, None),
    (503, False, True, "HTTP 503"),
    (429, False, True, "HTTP 429"),
    (400, False, False, "HTTP 400"),
    (302, False, False, "HTTP 302"),  # redirects are not followed
]


@pytest.mark.parametrize("channel", HTTP_CHANNELS)
async def test_status_codes_decide_retry(
    receiver: Receiver, http: httpx.AsyncClient, channel: Channel
) -> None:
    for status, ok, retry, error in STATUS_CASES:
        receiver.status = status
        result = await send(channel, context(http), receiver.url)
        assert (result.ok, result.retry, result.error) == (ok, retry, error), status
    assert len(receiver.requests) == len(STATUS_CASES)


@pytest.mark.parametrize("channel", HTTP_CHANNELS)
async def test_connection_refused_is_retried(http: httpx.AsyncClient, channel: Channel) -> None:
    result = await send(channel, context(http), f"http://127.0.0.1:{free_port()}")
    assert (result.ok, result.retry, result.error) == (False, True, "connection failed")


@pytest.mark.parametrize("channel", HTTP_CHANNELS)
async def test_a_slow_receiver_times_out_and_is_retried(
    receiver: Receiver, http: httpx.AsyncClient, channel: Channel
) -> None:
    receiver.delay = 5  # released when the receiver stops
    result = await send(channel, context(http, timeout=0.2), receiver.url)
    assert (result.ok, result.retry, result.error) == (False, True, "timeout")


async def test_private_targets_are_refused_in_production(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    ctx = SendContext(http=http, allow_private_targets=False, timeout=2)
    for channel in HTTP_CHANNELS:
        result = await send(channel, ctx, receiver.url)
        assert (result.ok, result.retry, result.error) == (
            False,
            False,
            "target refused: private or loopback address",
        ), channel
    assert receiver.requests == []


@pytest.mark.parametrize("channel", HTTP_CHANNELS)
async def test_cloud_metadata_is_refused_even_when_private_targets_are_allowed(
    http: httpx.AsyncClient, channel: Channel
) -> None:
    result = await send(channel, context(http), "http://169.254.169.254")
    assert (result.ok, result.retry, result.error) == (
        False,
        False,
        "target refused: cloud metadata address",
    )


async def test_a_host_name_is_sent_to_its_checked_address_under_its_own_name(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    # given a webhook named by a host name that resolves to the loopback receiver
    port = receiver.url.rsplit(":", 1)[1]

    result = await send(Channel.WEBHOOK, context(http), f"http://localhost:{port}")

    # then the request arrived, still addressed to the name
    assert result.ok, result
    assert receiver.only.headers["host"] == f"localhost:{port}"
    assert receiver.only.path == "/hooks/belfry"


async def test_a_name_that_changes_its_answer_after_the_check_is_not_followed(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    # given a name that answers a public address to the check, then the loopback receiver
    port = receiver.url.rsplit(":", 1)[1]
    ctx = SendContext(http=http, allow_private_targets=False, timeout=0.5)

    with rebinding("hooks.rebind.test", first=PUBLIC_ADDRESS, then="127.0.0.1") as answers:
        result = await send(Channel.WEBHOOK, ctx, f"http://hooks.rebind.test:{port}")

    # then the request went to the public address alone, and the receiver heard nothing
    assert not result.ok and result.retry
    assert answers == [PUBLIC_ADDRESS]
    assert receiver.requests == []


async def test_tls_is_verified_against_the_name_while_connecting_to_its_address(
    tmp_path: Path,
) -> None:
    # given an HTTPS receiver whose certificate names "localhost" and no address
    certificate = self_signed(tmp_path, "localhost")
    async with (
        receiving(certificate) as receiver,
        httpx.AsyncClient(verify=certificate.client_context(), trust_env=False) as http,
    ):
        port = receiver.url.rsplit(":", 1)[1]

        by_name = await send(Channel.WEBHOOK, context(http), f"https://localhost:{port}")
        by_address = await send(Channel.WEBHOOK, context(http), f"https://127.0.0.1:{port}")

    # then the name passes verification though the connection went to the checked address,
    # and the address alone does not
    assert by_name.ok, by_name
    assert by_address == SendResult(ok=False, retry=True, error="connection failed")
    assert receiver.only.headers["host"] == f"localhost:{port}"


async def test_a_tls_connection_verified_for_one_name_never_carries_another(
    tmp_path: Path,
) -> None:
    # given an HTTPS receiver for "localhost" only, and another name for the same address
    certificate = self_signed(tmp_path, "localhost")
    async with (
        receiving(certificate) as receiver,
        httpx.AsyncClient(verify=certificate.client_context(), trust_env=False) as http,
    ):
        port = receiver.url.rsplit(":", 1)[1]
        with rebinding("other.test", first="127.0.0.1", then="127.0.0.1"):
            # when one name is sent to, then the other right after
            first = await send(Channel.WEBHOOK, context(http), f"https://localhost:{port}")
            other = await send(Channel.WEBHOOK, context(http), f"https://other.test:{port}")

    # then the other name got a connection of its own, which failed verification
    assert first.ok, first
    assert other == SendResult(ok=False, retry=True, error="connection failed")
    assert len(receiver.requests) == 1
