"""The registry, config parsing and readiness of every provider."""

from typing import Any

import pytest

from app.delivery.providers import REGISTRY, get
from app.delivery.providers.base import Provider
from app.models.channels import Channel

VALID: dict[Channel, dict[str, Any]] = {
    Channel.EMAIL: {"host": "smtp.example.com", "from": "noreply@example.com", "password": "pw"},
    Channel.SMS: {"accountSid": "AC1", "authToken": "tok", "from": "+15550199"},
    Channel.WEBHOOK: {"url": "https://hooks.example.com/x", "signingSecret": "whsec_abc"},
    Channel.SLACK: {"webhookUrl": "https://hooks.slack.com/services/T0/B0/X"},
    Channel.TELEGRAM: {"botToken": "1:ABC", "chatId": "@alerts"},
}

NOT_CONFIGURED = {
    Channel.EMAIL: "SMTP_NOT_CONFIGURED",
    Channel.SMS: "SMS_NOT_CONFIGURED",
    Channel.WEBHOOK: "WEBHOOK_NOT_CONFIGURED",
    Channel.SLACK: "SLACK_NOT_CONFIGURED",
    Channel.TELEGRAM: "TELEGRAM_NOT_CONFIGURED",
}

SECRETS = {
    Channel.EMAIL: {"password"},
    Channel.SMS: {"authToken"},
    Channel.WEBHOOK: {"signingSecret", "headers"},
    Channel.SLACK: {"webhookUrl"},
    Channel.TELEGRAM: {"botToken"},
}

# (channel, key, bad value): a wrong type or a value the key does not allow.
BAD_VALUES = [
    (Channel.EMAIL, "port", "not-a-port"),
    (Channel.EMAIL, "port", 70000),
    (Channel.EMAIL, "tls", "sometimes"),
    (Channel.EMAIL, "from", "not an address"),
    (Channel.SMS, "accountSid", ["AC1"]),
    (Channel.SMS, "apiBaseUrl", "ftp://api.example.com"),
    (Channel.WEBHOOK, "method", "DELETE"),
    (Channel.WEBHOOK, "headers", {"X-Ok": 1}),
    (Channel.WEBHOOK, "headers", {"Bad Name": "v"}),
    (Channel.WEBHOOK, "headers", {"X-Evil": "a\r\nHost: other"}),
    (Channel.WEBHOOK, "url", "not a url"),
    (Channel.SLACK, "webhookUrl", 42),
    (Channel.TELEGRAM, "chatId", {"id": 1}),
]


def test_every_channel_has_its_provider_in_the_enums_order() -> None:
    assert list(REGISTRY) == list(Channel)
    for channel, provider in REGISTRY.items():
        assert provider.kind is channel
        assert get(channel) is provider


@pytest.mark.parametrize("channel", list(VALID))
def test_valid_config_is_ready(channel: Channel) -> None:
    provider: Provider[Any] = get(channel)
    config = provider.parse_config(VALID[channel])
    assert config is not None
    assert provider.readiness(config).ready
    assert provider.readiness(config).reason is None
    assert provider.secret_fields == SECRETS[channel]
    # Secret field names are config keys, as stored and as the API spells them.
    assert provider.secret_fields <= set(config.model_dump(by_alias=True))


@pytest.mark.parametrize("channel", list(VALID))
def test_no_config_is_not_ready(channel: Channel) -> None:
    provider: Provider[Any] = get(channel)
    assert provider.parse_config(None) is None
    assert provider.parse_config({}) is None
    readiness = provider.readiness(None)
    assert (readiness.ready, readiness.reason) == (False, NOT_CONFIGURED[channel])


@pytest.mark.parametrize("channel", list(VALID))
def test_unknown_keys_are_refused_by_name(channel: Channel) -> None:
    with pytest.raises(ValueError, match="surpriseKey"):
        get(channel).parse_config(VALID[channel] | {"surpriseKey": 1})


@pytest.mark.parametrize(("channel", "key", "value"), BAD_VALUES)
def test_bad_values_are_refused_by_key(channel: Channel, key: str, value: Any) -> None:
    with pytest.raises(ValueError, match=rf"^invalid {channel} config: {key}\b") as raised:
        get(channel).parse_config(VALID[channel] | {key: value})
    assert not isinstance(raised.value.__cause__, Exception)  # no pydantic detail chained


@pytest.mark.parametrize(
    ("channel", "raw", "key"),
    [
        (Channel.EMAIL, {"host": "smtp.example.com"}, "from"),
        (Channel.EMAIL, {"host": "  ", "from": "a@example.com"}, "host"),  # blank
        (Channel.SMS, {"accountSid": "AC1", "from": "+15550199"}, "authToken"),
        (Channel.WEBHOOK, {"method": "PUT"}, "url"),
        (Channel.SLACK, {"webhookUrl": ""}, "webhookUrl"),
        (Channel.TELEGRAM, {"botToken": "1:ABC"}, "chatId"),
    ],
)
def test_missing_required_keys_are_named(channel: Channel, raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=rf"{key}: "):
        get(channel).parse_config(raw)


def test_errors_do_not_echo_secret_values() -> None:
    with pytest.raises(ValueError) as raised:
        get(Channel.SMS).parse_config(VALID[Channel.SMS] | {"authToken": ["s3cr3t-value"]})
    assert "authToken" in str(raised.value)
    assert "s3cr3t-value" not in str(raised.value)


def test_snake_case_names_are_accepted_too() -> None:
    config = get(Channel.SMS).parse_config(
        {"account_sid": "AC1", "auth_token": "tok", "from_": "+15550199"}
    )
    assert config is not None and config.model_dump(by_alias=True)["accountSid"] == "AC1"
