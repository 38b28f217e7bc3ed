"""Channel configuration as the API takes it: what a config may hold."""

import json

import pytest

from tests.helpers import Api, make_tenant

UPDATE = """
mutation($channel: Channel!, $input: ChannelConfigInput!) {
  updateChannel(channel: $channel, input: $input) { channel config }
}
"""
TEST = """
mutation($channel: Channel!, $config: JSON) { testChannel(channel: $channel, config: $config) }
"""


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (UPDATE, {"channel": "WEBHOOK", "input": {"config": {"headers": {"x": "y" * 17_000}}}}),
        (TEST, {"channel": "WEBHOOK", "config": {"headers": {"x": "y" * 17_000}}}),
    ],
)
async def test_a_config_over_16_kib_is_refused(api: Api, query: str, variables) -> None:
    tenant = await make_tenant()

    error = await api.error(query, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config"}
    assert "bytes" in error["message"]


async def test_a_config_holding_nan_is_refused(api: Api) -> None:
    tenant = await make_tenant()
    variables = {"channel": "EMAIL", "input": {"config": {"host": "smtp.example.com", "port": 0}}}
    body = json.dumps({"query": UPDATE, "variables": variables}).replace('"port": 0', '"port": NaN')

    response = await api.raw(body, token=tenant.api_key)

    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "config"}
    channels = await api.data("{ channels { channel config } }", token=tenant.api_key)
    assert {c["channel"]: c["config"] for c in channels["channels"]}["EMAIL"] == {}
