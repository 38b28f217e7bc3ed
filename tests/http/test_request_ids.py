"""Request ids: the client's X-Request-ID kept when sane, else one made; echoed on every
response and websocket upgrade; quoted by masked errors; written on the deliveries queued."""

import re

import pytest
from websockets.asyncio.client import connect

from app.models import Channel, Delivery
from app.services import inbox
from app.settings import Settings
from tests.conftest import LiveServer
from tests.delivery.helpers import Receiver
from tests.delivery.test_worker import CATEGORY, webhook_tenant
from tests.helpers import PUBLISH, Api, make_tenant, make_user

MADE = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_private_targets": True})  # loopback receivers


async def test_a_sane_request_id_is_kept_and_echoed(api: Api) -> None:
    response = await api.client.get("/healthz", headers={"X-Request-ID": "req-0a1B:2/3=+_."})

    assert response.headers["x-request-id"] == "req-0a1B:2/3=+_."


async def test_a_request_id_is_made_when_none_is_sent(api: Api) -> None:
    first = await api.client.get("/healthz")
    second = await api.client.get("/healthz")

    assert MADE.fullmatch(first.headers["x-request-id"])
    assert MADE.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("sent", ["two words", "x" * 65, 'quote"d', "a;b", ""])
async def test_an_unsafe_request_id_is_replaced(api: Api, sent: str) -> None:
    response = await api.client.get("/healthz", headers={"X-Request-ID": sent})

    assert MADE.fullmatch(response.headers["x-request-id"])


async def test_refusals_and_unknown_paths_echo_it_too(api: Api) -> None:
    refused = await api.client.put("/graphql", headers={"X-Request-ID": "refused-1"})
    missing = await api.client.get("/nowhere", headers={"X-Request-ID": "missing-1"})

    assert refused.status_code == 405 and refused.headers["x-request-id"] == "refused-1"
    assert missing.status_code == 404 and missing.headers["x-request-id"] == "missing-1"


async def test_a_masked_error_quotes_the_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant)

    async def broken(**_: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(inbox, "unread_count", broken)
    response = await api.client.post(
        "/graphql",
        json={"query": "{ unreadCount }"},
        headers={"authorization": f"Bearer {alice.token}", "X-Request-ID": "masked-7"},
    )

    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "masked-7"}
    assert "masked-7" in error["message"]


async def test_a_websocket_upgrade_echoes_it(server: LiveServer) -> None:
    async with connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"X-Request-ID": "socket-9"},
    ) as socket:
        assert socket.response is not None
        assert socket.response.headers["x-request-id"] == "socket-9"


async def test_a_publish_writes_its_request_id_on_the_deliveries_it_queues(
    api: Api, receiver: Receiver
) -> None:
    tenant = await webhook_tenant(api, receiver)
    await make_user(api, tenant, "alice")
    variables = {"input": {"recipients": ["alice"], "category": CATEGORY, "title": "Calls"}}

    response = await api.client.post(
        "/graphql",
        json={"query": PUBLISH, "variables": variables},
        headers={"authorization": f"Bearer {tenant.api_key}", "X-Request-ID": "publish-3"},
    )

    assert response.status_code == 200 and "errors" not in response.json()
    rows = await Delivery.filter(tenant_id=tenant.tenant_id).values_list("channel", "request_id")
    assert set(rows) == {(Channel.IN_APP, "publish-3"), (Channel.WEBHOOK, "publish-3")}
