"""/metrics as Prometheus scrapes it: counters that move with the work done, in one process."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from app.delivery.worker import Worker
from app.metrics import MULTIPROC_ENV, OTHER, UNNAMED, OperationNames, forget_dead_processes
from app.settings import Settings
from tests.conftest import LiveServer
from tests.delivery.helpers import Receiver
from tests.delivery.test_worker import CATEGORY, drain, webhook_tenant
from tests.helpers import Api, make_tenant, make_user, publish
from tests.wsclient import GraphQLSocket

NAMED_PUBLISH = """
mutation SendReminder($input: PublishNotificationInput!) {
  publishNotification(input: $input) { count }
}
"""


class Scrape:
    """One scrape's samples, looked up by name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [
            sample for family in text_string_to_metric_families(text) for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples with that name and at least those labels (0 if none)."""
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def label_values(self) -> set[str]:
        return {value for s in self.samples for value in s.labels.values()}


async def scrape(client: httpx.AsyncClient, token: str | None = None) -> Scrape:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return Scrape(response.text)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_private_targets": True})


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[Worker]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield Worker(settings, http)


async def test_a_publish_and_its_delivery_move_the_counters(
    api: Api, worker: Worker, receiver: Receiver
) -> None:
    tenant = await webhook_tenant(api, receiver)
    before = await scrape(api.client)

    await publish(api, tenant, ["alice"], category=CATEGORY)
    queued = await scrape(api.client)
    await drain(worker)
    after = await scrape(api.client)

    assert queued.value("belfry_publishes_total") == before.value("belfry_publishes_total") + 1
    notifications = "belfry_notifications_created_total"
    assert queued.value(notifications) == before.value(notifications) + 1
    assert queued.value("belfry_delivery_queue_depth", channel="WEBHOOK") == 1
    assert queued.value("belfry_delivery_queue_oldest_age_seconds", channel="WEBHOOK") >= 0
    sent = {"channel": "WEBHOOK", "status": "sent"}
    assert after.value("belfry_deliveries_total", **sent) == (
        before.value("belfry_deliveries_total", **sent) + 1
    )
    send_count = "belfry_provider_send_duration_seconds_count"
    assert after.value(send_count, channel="WEBHOOK") == (
        before.value(send_count, channel="WEBHOOK") + 1
    )
    assert after.value("belfry_delivery_queue_depth", channel="WEBHOOK") == 0
    assert len(receiver.requests) == 1


async def test_graphql_operations_are_counted_by_name_type_and_outcome(api: Api) -> None:
    tenant = await make_tenant()
    ok = {"operation": "SendReminder", "type": "mutation", "outcome": "ok"}
    refused = {"operation": "SendReminder", "type": "mutation", "outcome": "client_error"}
    before = await scrape(api.client)
    variables = {"input": {"recipients": ["bob"], "category": "a.b", "title": "Hi"}}

    await api.data(NAMED_PUBLISH, variables, token=tenant.api_key)
    await api.call(NAMED_PUBLISH, {"input": {**variables["input"], "title": ""}}, tenant.api_key)
    after = await scrape(api.client)

    total, duration = "belfry_graphql_operations_total", "belfry_graphql_operation_duration_seconds"
    assert after.value(total, **ok) == before.value(total, **ok) + 1
    assert after.value(total, **refused) == before.value(total, **refused) + 1
    timed = {"operation": "SendReminder", "type": "mutation"}
    assert after.value(f"{duration}_count", **timed) == (
        before.value(f"{duration}_count", **timed) + 2
    )


async def test_names_sent_without_credentials_are_counted_as_other(api: Api) -> None:
    before = await scrape(api.client)

    await api.call("query InventedByAStranger { viewer { id } }")
    after = await scrape(api.client)

    assert "InventedByAStranger" not in after.label_values()
    other = {"operation": OTHER, "type": "query", "outcome": "client_error"}
    total = "belfry_graphql_operations_total"
    assert after.value(total, **other) == before.value(total, **other) + 1


def test_operation_names_stop_growing_at_the_limit() -> None:
    names = OperationNames(limit=2)

    labels = [names.label(n, signed_in=True) for n in ("A", "B", "C", "A", "bad name!", None)]

    assert labels == ["A", "B", OTHER, "A", OTHER, UNNAMED]


async def test_labels_carry_no_tenant_or_user_ids(
    api: Api, worker: Worker, receiver: Receiver
) -> None:
    tenant = await webhook_tenant(api, receiver)
    alice = await make_user(api, tenant, "alice-ext-42")
    viewer = await api.data("{ viewer { id } }", token=alice.token)

    await publish(api, tenant, [alice.external_id], category=CATEGORY, title="Secret title")
    await drain(worker)
    text = (await scrape(api.client)).text

    for private in (tenant.tenant_id, tenant.api_key, alice.external_id, viewer["viewer"]["id"]):
        assert private not in text
    assert "Secret title" not in text


async def test_open_sockets_subscriptions_and_fanned_out_events_are_counted(
    server: LiveServer, live_api: Api
) -> None:
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant, "alice")
    protocol = {"protocol": "graphql-transport-ws"}
    before = await scrape(live_api.client)

    socket = await GraphQLSocket.open(server.ws_url, alice.token)
    await socket.acknowledged()
    op = await socket.subscribe("subscription { unreadCount }")
    assert (await socket.next(op))["unreadCount"] == 0
    await publish(live_api, tenant, ["alice"])
    assert (await socket.next(op))["unreadCount"] == 1
    during = await scrape(live_api.client)
    await socket.close()
    after = await scrape(live_api.client)

    sockets, subscriptions = "belfry_websocket_connections", "belfry_subscriptions_active"
    assert during.value(sockets, **protocol) == before.value(sockets, **protocol) + 1
    assert during.value(subscriptions, kind="unreadCount") == (
        before.value(subscriptions, kind="unreadCount") + 1
    )
    events = "belfry_live_events_total"
    assert during.value(events, topic="inbox") >= before.value(events, topic="inbox") + 1
    assert after.value(sockets, **protocol) == before.value(sockets, **protocol)
    assert after.value(subscriptions, kind="unreadCount") == (
        before.value(subscriptions, kind="unreadCount")
    )


async def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://belfry.test")


@pytest.fixture
def token_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": "scrape-me"})


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic scrape-me", "scrape-me"])
async def test_a_metrics_token_is_required_as_bearer_when_set(
    token_settings: Settings, authorization: str | None
) -> None:
    from app.main import create_app

    app = create_app(token_settings)
    headers = {"authorization": authorization} if authorization else {}
    async with app.router.lifespan_context(app), await _client(app) as client:
        refused = await client.get("/metrics", headers=headers)
        allowed = await scrape(client, token="scrape-me")

    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert "belfry_" not in refused.text
    assert allowed.value("belfry_publishes_total") >= 0
    assert "belfry_publishes_total" in allowed.text


async def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(api: Api) -> None:
    response = await api.client.get(
        "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
    )

    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_a_dead_workers_open_sockets_no_longer_count(tmp_path: Path) -> None:
    # Given a process that held a socket in multiprocess mode and died without closing it
    held = "from app import metrics; metrics.WEBSOCKETS.labels('graphql-transport-ws').inc()"
    env = {**os.environ, MULTIPROC_ENV: str(tmp_path)}
    subprocess.run([sys.executable, "-c", held], env=env, check=True)
    before = _collected(tmp_path)

    # When a scrape looks at the directory
    forget_dead_processes(tmp_path)

    # Then its socket is gone from the sum
    assert before.value("belfry_websocket_connections", protocol="graphql-transport-ws") == 1
    assert _collected(tmp_path).value("belfry_websocket_connections") == 0


def _collected(path: Path) -> Scrape:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    return Scrape(generate_latest(registry).decode())
