"""Where a channel may point: checked when it is saved and when it is tested."""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from app.crypto import SecretBox
from app.models import Channel, ChannelConfig
from app.settings import Settings
from tests.delivery.helpers import BANNER, Receiver, banner_server
from tests.helpers import Api, TenantAccess, make_tenant, store_webhook

UPDATE_CHANNEL = """
mutation($channel: Channel!, $input: ChannelConfigInput!) {
  updateChannel(channel: $channel, input: $input) { channel ready reason }
}
"""
TEST_CHANNEL = """
mutation($channel: Channel!, $config: JSON) { testChannel(channel: $channel, config: $config) }
"""
CHANNELS = "{ channels { channel ready reason } }"


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Private targets refused, as in production, unless a test allows them."""
    allowed = getattr(request, "param", False)
    return settings.model_copy(update={"allow_private_targets": allowed})


# Runs a test with BELFRY_ALLOW_PRIVATE_TARGETS=true.
private_targets_allowed = pytest.mark.parametrize(
    "settings", [True], indirect=True, ids=["private-allowed"]
)


def email_config(port: int, host: str = "127.0.0.1") -> dict[str, Any]:
    return {"host": host, "port": port, "from": "alerts@example.com", "tls": False}


async def save(api: Api, tenant: TenantAccess, channel: str, config: dict[str, Any]) -> Any:
    variables = {"channel": channel, "input": {"enabled": True, "config": config}}
    return await api.call(UPDATE_CHANNEL, variables, token=tenant.api_key)


async def readiness(api: Api, tenant: TenantAccess, channel: str) -> dict[str, Any]:
    listed = await api.data(CHANNELS, token=tenant.api_key)
    [found] = [c for c in listed["channels"] if c["channel"] == channel]
    return dict(found)


# --- testChannel on EMAIL ------------------------------------------------------------------


async def test_testing_email_on_a_private_host_is_refused_at_once(api: Api) -> None:
    # given a loopback service that would answer with its banner
    tenant = await make_tenant()
    async with banner_server() as port:
        # when a tenant tests an email channel pointed at it
        started = time.monotonic()
        error = await api.error(
            TEST_CHANNEL, {"channel": "EMAIL", "config": email_config(port)}, token=tenant.api_key
        )
        elapsed = time.monotonic() - started

    # then it is refused before connecting, naming the field, with nothing of the service
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config.host"}
    assert "private or loopback" in error["message"]
    assert "SSH" not in error["message"] and "OpenSSH" not in error["message"]
    assert elapsed < 1


@private_targets_allowed
async def test_testing_email_on_a_service_that_is_not_smtp_never_shows_its_banner(
    api: Api,
) -> None:
    tenant = await make_tenant()
    async with banner_server() as port:
        error = await api.error(
            TEST_CHANNEL, {"channel": "EMAIL", "config": email_config(port)}, token=tenant.api_key
        )

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not an SMTP server" in error["message"]
    assert BANNER.decode() not in error["message"] and "OpenSSH" not in error["message"]


@private_targets_allowed
async def test_testing_email_on_metadata_is_refused_even_when_private_targets_are_allowed(
    api: Api,
) -> None:
    tenant = await make_tenant()
    config = email_config(80, host="169.254.169.254")

    error = await api.error(
        TEST_CHANNEL, {"channel": "EMAIL", "config": config}, token=tenant.api_key
    )

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config.host"}
    assert "cloud metadata" in error["message"]


# --- updateChannel -------------------------------------------------------------------------

# Each channel's target key, set to loopback.
PRIVATE_CONFIGS = [
    ("EMAIL", email_config(25), "config.host"),
    ("WEBHOOK", {"url": "http://127.0.0.1:8080/hook"}, "config.url"),
    ("SLACK", {"webhookUrl": "http://127.0.0.1/services/T0/B0/X"}, "config.webhookUrl"),
    (
        "TELEGRAM",
        {"botToken": "1:ABC", "chatId": 1, "apiBaseUrl": "http://[::1]:8081"},
        "config.apiBaseUrl",
    ),
    (
        "SMS",
        {
            "accountSid": "AC1",
            "authToken": "t",
            "from": "+15550199",
            "apiBaseUrl": "http://10.0.0.7",
        },
        "config.apiBaseUrl",
    ),
]


@pytest.mark.parametrize(("channel", "config", "field"), PRIVATE_CONFIGS)
async def test_saving_a_private_target_is_refused_naming_the_field(
    api: Api, channel: str, config: dict[str, Any], field: str
) -> None:
    tenant = await make_tenant()

    body = await save(api, tenant, channel, config)

    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert "private or loopback" in error["message"]
    assert await readiness(api, tenant, channel) == {
        "channel": channel,
        "ready": False,
        "reason": f"{channel if channel != 'EMAIL' else 'SMTP'}_NOT_CONFIGURED",
    }


async def test_saving_a_loopback_webhook_is_refused_when_private_targets_are_not_allowed(
    api: Api, receiver: Receiver
) -> None:
    tenant = await make_tenant()

    body = await save(api, tenant, "WEBHOOK", {"url": f"{receiver.url}/hook"})

    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "config.url"}


@private_targets_allowed
async def test_saving_a_loopback_webhook_is_accepted_when_private_targets_are_allowed(
    api: Api, receiver: Receiver
) -> None:
    tenant = await make_tenant()

    body = await save(api, tenant, "WEBHOOK", {"url": f"{receiver.url}/hook"})

    assert body["data"]["updateChannel"] == {"channel": "WEBHOOK", "ready": True, "reason": None}


@private_targets_allowed
@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/api/token",
        "http://100.100.100.200/latest/meta-data/",
    ],
)
async def test_saving_a_metadata_webhook_is_refused_even_when_private_targets_are_allowed(
    api: Api, url: str
) -> None:
    tenant = await make_tenant()

    body = await save(api, tenant, "WEBHOOK", {"url": url})

    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config.url"}
    assert "cloud metadata" in error["message"]


async def test_a_private_target_named_by_its_field_name_is_refused_at_save(api: Api) -> None:
    # Given a Slack config naming its webhook as the model's field, not its camelCase key
    tenant = await make_tenant()

    # When it is saved with private targets refused
    body = await save(api, tenant, "SLACK", {"webhook_url": "http://127.0.0.1:9/hooks"})

    # Then the loopback target is refused as under its own key, and nothing is stored
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config.webhookUrl"}
    assert not await ChannelConfig.exists(tenant_id=tenant.tenant_id, channel=Channel.SLACK)


async def test_saving_a_name_that_does_not_resolve_is_accepted(api: Api) -> None:
    # given a public name that does not resolve here: it is checked again at every send
    tenant = await make_tenant()

    body = await save(api, tenant, "WEBHOOK", {"url": "https://hooks.example.com/belfry"})

    assert body["data"]["updateChannel"]["ready"] is True


# --- what a config may hold -----------------------------------------------------------------

CONFIG_UPDATE = """
mutation($channel: Channel!, $input: ChannelConfigInput!) {
  updateChannel(channel: $channel, input: $input) { channel config }
}
"""


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (
            CONFIG_UPDATE,
            {"channel": "WEBHOOK", "input": {"config": {"headers": {"x": "y" * 17_000}}}},
        ),
        (TEST_CHANNEL, {"channel": "WEBHOOK", "config": {"headers": {"x": "y" * 17_000}}}),
    ],
)
async def test_a_config_over_16_kib_is_refused(api: Api, query: str, variables: Any) -> None:
    tenant = await make_tenant()

    error = await api.error(query, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config"}
    assert "bytes" in error["message"]


async def test_a_config_holding_nan_is_refused(api: Api) -> None:
    tenant = await make_tenant()
    variables = {"channel": "EMAIL", "input": {"config": {"host": "smtp.example.com", "port": 0}}}
    body = json.dumps({"query": CONFIG_UPDATE, "variables": variables})

    response = await api.raw(body.replace('"port": 0', '"port": NaN'), token=tenant.api_key)

    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config"}
    channels = await api.data("{ channels { channel config } }", token=tenant.api_key)
    assert {c["channel"]: c["config"] for c in channels["channels"]}["EMAIL"] == {}


@pytest.mark.parametrize("config", [["host", "smtp.example.com"], "smtp.example.com", 25])
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CONFIG_UPDATE, lambda config: {"channel": "EMAIL", "input": {"config": config}}),
        (TEST_CHANNEL, lambda config: {"channel": "EMAIL", "config": config}),
    ],
    ids=["updateChannel", "testChannel"],
)
async def test_a_config_that_is_not_an_object_is_refused(
    api: Api, query: str, variables: Callable[[Any], dict[str, Any]], config: Any
) -> None:
    # given a tenant; when it sends a config that is a list, a string or a number
    tenant = await make_tenant()

    error = await api.error(query, variables(config), token=tenant.api_key)

    # then it is told the config must be an object, not answered with an unexpected error
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config"}
    assert "JSON object" in error["message"]


@private_targets_allowed
async def test_a_secret_named_by_its_field_name_is_sealed_and_never_shown(api: Api) -> None:
    # Given a webhook config naming its signing secret as the model's field
    tenant = await make_tenant()
    config = {"url": "http://127.0.0.1:9/hook", "signing_secret": "whsec_field_name"}

    # When it is saved and the channels are listed
    saved = await api.data(
        CONFIG_UPDATE, {"channel": "WEBHOOK", "input": {"config": config}}, token=tenant.api_key
    )
    listed = await api.data("{ channels { channel config } }", token=tenant.api_key)

    # Then the secret is kept under its key, sealed, and comes back redacted
    shown = {"url": "http://127.0.0.1:9/hook", "signingSecret": "********"}
    assert saved["updateChannel"]["config"] == shown
    assert {c["channel"]: c["config"] for c in listed["channels"]}["WEBHOOK"] == shown
    stored = await ChannelConfig.get(tenant_id=tenant.tenant_id, channel=Channel.WEBHOOK)
    assert "whsec_field_name" not in stored.config


async def test_a_secret_kept_in_the_clear_under_its_field_name_is_never_shown(api: Api) -> None:
    # Given a webhook config saved under the field name of its secret, unsealed
    tenant = await make_tenant()
    config = {"url": "https://hooks.example.com/belfry", "signing_secret": "whsec_kept"}
    await ChannelConfig.create(
        tenant_id=tenant.tenant_id,
        channel=Channel.WEBHOOK,
        enabled=True,
        config=json.dumps(config),
    )

    # When the channels are listed, and the config saved again as listed
    listed = await api.data("{ channels { channel config } }", token=tenant.api_key)
    shown = {c["channel"]: c["config"] for c in listed["channels"]}["WEBHOOK"]
    await save(api, tenant, "WEBHOOK", shown)

    # Then the secret comes back redacted, and is kept, sealed now, under its own key
    assert shown == {"url": "https://hooks.example.com/belfry", "signingSecret": "********"}
    stored = await ChannelConfig.get(tenant_id=tenant.tenant_id, channel=Channel.WEBHOOK)
    assert "whsec_kept" not in stored.config
    assert "signingSecret" in json.loads(stored.config)


# --- a secret sealed with a key the server no longer holds ------------------------------

UPDATE_WEBHOOK = """
mutation($input: ChannelConfigInput!) {
  updateChannel(channel: WEBHOOK, input: $input) { enabled config ready reason }
}
"""
STATUS = "{ dispatcherStatus { channels { channel ready reason } } }"


async def unreadable_webhook() -> TenantAccess:
    """A tenant whose webhook secret was sealed with a key this server was never given."""
    tenant = await make_tenant()
    await store_webhook(tenant.tenant_id, SecretBox(["a key since removed"]))
    return tenant


async def stored_webhook(tenant: TenantAccess) -> ChannelConfig:
    return await ChannelConfig.get(tenant_id=tenant.tenant_id, channel=Channel.WEBHOOK)


async def test_a_channel_whose_secret_cannot_be_read_is_not_ready_rather_than_an_error(
    api: Api,
) -> None:
    tenant = await unreadable_webhook()

    webhook = await readiness(api, tenant, "WEBHOOK")
    status = await api.data(STATUS, token=tenant.api_key)

    assert webhook == {"channel": "WEBHOOK", "ready": False, "reason": "SECRET_UNREADABLE"}
    assert {
        "channel": "WEBHOOK",
        "ready": False,
        "reason": "SECRET_UNREADABLE",
    } in status["dispatcherStatus"]["channels"]


async def test_a_config_change_that_keeps_an_unreadable_secret_is_refused(api: Api) -> None:
    tenant = await unreadable_webhook()
    before = await stored_webhook(tenant)

    error = await api.error(
        UPDATE_WEBHOOK,
        {"input": {"config": {"url": "http://127.0.0.1:9/new"}}},
        token=tenant.api_key,
    )

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config.signingSecret"}
    assert "SECRET_UNREADABLE" in error["message"]
    assert (await stored_webhook(tenant)).config == before.config


async def test_switching_such_a_channel_off_keeps_its_secret_sealed_as_it_was(api: Api) -> None:
    tenant = await unreadable_webhook()
    before = await stored_webhook(tenant)

    result = await api.data(UPDATE_WEBHOOK, {"input": {"enabled": False}}, token=tenant.api_key)

    assert result["updateChannel"]["config"]["signingSecret"] == "********"
    after = await stored_webhook(tenant)
    assert (after.enabled, after.config) == (False, before.config)


@private_targets_allowed
async def test_sending_the_secret_again_makes_the_channel_ready(api: Api) -> None:
    tenant = await unreadable_webhook()
    config = {"url": "http://127.0.0.1:9/hook", "signingSecret": "whsec_new"}

    result = await api.data(UPDATE_WEBHOOK, {"input": {"config": config}}, token=tenant.api_key)

    assert (result["updateChannel"]["ready"], result["updateChannel"]["reason"]) == (True, None)
