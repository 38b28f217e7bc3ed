"""Tracing with OpenTelemetry: spans from a real app, database and receiver, caught by the
SDK's in-memory exporter; and with tracing off, no OpenTelemetry at all."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from app import tracing
from app.delivery.worker import Worker
from app.graphql.schema import schema, with_extensions
from app.settings import Settings
from app.tracing.otel import Tracing
from tests.delivery.helpers import Receiver, receiving
from tests.delivery.test_worker import CATEGORY, drain, webhook_tenant
from tests.helpers import Api, TenantAccess, make_tenant
from tests.processes import eventually, server_process

PUBLISH = """
mutation Publish($input: PublishNotificationInput!) {
  publishNotification(input: $input) { count }
}
"""
SECRET_TITLE = "Your code is 991-204"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.start(Tracing(provider))
    yield exporter
    tracing.stop()


@pytest.fixture
def settings(settings: Settings, spans: InMemorySpanExporter) -> Settings:
    # Tracing is on before the app is built; receivers are on loopback.
    return settings.model_copy(
        update={"allow_private_targets": True, "delivery_backoff_seconds": 0.01}
    )


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[Worker]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield Worker(settings, http)


async def publish_to(api: Api, tenant: TenantAccess, recipient: str) -> None:
    variables = {"input": {"recipients": [recipient], "category": CATEGORY, "title": SECRET_TITLE}}
    assert (await api.data(PUBLISH, variables, token=tenant.api_key))["publishNotification"]


def named(spans: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [span for span in spans.get_finished_spans() if span.name == name]
    assert len(found) == 1, [span.name for span in spans.get_finished_spans()]
    return found[0]


def recorded_values(spans: InMemorySpanExporter) -> str:
    return " ".join(
        str(value)
        for span in spans.get_finished_spans()
        for value in (span.attributes or {}).values()
    )


async def test_a_graphql_request_makes_an_http_span_around_the_operation_span(
    api: Api, spans: InMemorySpanExporter, database_url: str
) -> None:
    tenant = await make_tenant()
    spans.clear()

    await publish_to(api, tenant, "alice")

    http = named(spans, "POST /graphql")
    operation = named(spans, "GraphQL Query: Publish")
    resolver = named(spans, "GraphQL Resolving: publishNotification")
    assert http.kind is SpanKind.SERVER and (http.attributes or {})["http.route"] == "/graphql"
    assert operation.parent is not None and operation.parent.span_id == http.context.span_id
    assert resolver.parent is not None and resolver.parent.span_id == operation.context.span_id
    if database_url.startswith("postgres"):
        queries = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
        assert queries and all(q.context.trace_id == http.context.trace_id for q in queries)


async def test_spans_carry_no_arguments_of_the_operation(
    api: Api, spans: InMemorySpanExporter
) -> None:
    tenant = await make_tenant()

    await publish_to(api, tenant, "alice")

    assert named(spans, "GraphQL Resolving: publishNotification")
    assert SECRET_TITLE not in recorded_values(spans)
    assert tenant.api_key not in recorded_values(spans)


async def test_a_get_request_span_leaves_out_its_query_string(
    api: Api, spans: InMemorySpanExporter
) -> None:
    document = "query Q($a: String) { __typename }"
    variables = '{"a": "' + SECRET_TITLE + '"}'

    response = await api.client.get("/graphql", params={"query": document, "variables": variables})

    assert response.status_code == 200
    http = named(spans, "GET /graphql")
    assert (http.attributes or {})["http.url"] == "http://belfry.test/graphql"
    assert SECRET_TITLE not in recorded_values(spans)


async def test_a_delivery_attempt_span_links_to_the_publish(
    api: Api, worker: Worker, receiver: Receiver, spans: InMemorySpanExporter
) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish_to(api, tenant, "alice")
    publish = named(spans, "GraphQL Resolving: publishNotification")

    await drain(worker)

    attempt = named(spans, "deliver WEBHOOK")
    [link] = attempt.links
    assert (link.context.trace_id, link.context.span_id) == (
        publish.context.trace_id,
        publish.context.span_id,
    )
    assert attempt.context.trace_id != publish.context.trace_id  # a trace of its own
    assert attempt.attributes == {
        "belfry.delivery.id": receiver.only.headers["webhook-id"],
        "belfry.delivery.channel": "WEBHOOK",
        "belfry.delivery.attempt": 1,
        "belfry.delivery.outcome": "SENT",
    }


async def test_the_webhook_send_is_an_httpx_span_inside_the_attempt_without_its_path(
    api: Api, worker: Worker, receiver: Receiver, spans: InMemorySpanExporter
) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish_to(api, tenant, "alice")

    await drain(worker)

    attempt = named(spans, "deliver WEBHOOK")
    send = named(spans, "POST")
    assert send.kind is SpanKind.CLIENT
    assert send.parent is not None and send.parent.span_id == attempt.context.span_id
    attributes = send.attributes or {}
    assert attributes.get("http.status_code", attributes.get("http.response.status_code")) == 200
    assert attributes["http.url"] == receiver.url  # the origin; the path may be a secret
    assert "/hook" not in recorded_values(spans) and SECRET_TITLE not in recorded_values(spans)


async def test_a_failed_attempt_is_an_error_span_that_says_it_will_be_retried(
    api: Api, worker: Worker, receiver: Receiver, spans: InMemorySpanExporter
) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish_to(api, tenant, "alice")
    receiver.status = 503

    await worker.run_once()

    attempt = named(spans, "deliver WEBHOOK")
    assert (attempt.attributes or {})["belfry.delivery.outcome"] == "QUEUED"
    assert attempt.status.status_code is StatusCode.ERROR
    assert attempt.status.description is None


def test_the_traced_schema_is_the_same_schema() -> None:
    assert with_extensions([]).as_str() == schema.as_str()


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter, without the OTEL_ variables of this one."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


BUILD_APP = """
from app.main import create_app
from app.settings import Settings
create_app(Settings(data_dir="{data}"))
"""
# redis-py 8 imports parts of OpenTelemetry by itself, when they are installed: what Belfry
# adds is what is imported beyond those.
BELFRY_ADDS = """
import sys
import redis
def loaded():
    return {{name for name in sys.modules if name.startswith("opentelemetry")}}
before = loaded()
import app.cli
import app.delivery.worker
from app.main import create_app
from app.settings import Settings
create_app(Settings(data_dir="{data}"))
added = loaded() - before
ours = ("app.tracing.otel", "strawberry.extensions.tracing.opentelemetry")
added |= {{name for name in ours if name in sys.modules}}
print(sorted(added))
"""


def test_without_an_endpoint_nothing_of_opentelemetry_is_imported(tmp_path: Path) -> None:
    result = python(BELFRY_ADDS.format(data=tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_with_an_endpoint_the_opentelemetry_side_is_imported(tmp_path: Path) -> None:
    result = python(
        BELFRY_ADDS.format(data=tmp_path), OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9"
    )

    assert result.returncode == 0, result.stderr
    assert "app.tracing.otel" in result.stdout
    assert "opentelemetry.instrumentation.asyncpg" in result.stdout


def test_with_an_endpoint_but_without_the_extra_one_warning_and_no_tracing(
    tmp_path: Path,
) -> None:
    # The extra, as good as uninstalled: its imports fail.
    missing = "import sys; sys.modules['opentelemetry'] = None\n"
    configure_logging = "import logging; logging.basicConfig()\n"
    code = missing + configure_logging + BUILD_APP.format(data=tmp_path)

    result = python(code, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318")

    assert result.returncode == 0, result.stderr
    [warning] = result.stderr.strip().splitlines()
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in warning and "belfry[otel]" in warning


async def test_a_served_process_exports_its_spans_over_otlp_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with receiving() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # milliseconds between batches
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with server_process(tmp_path) as server, httpx.AsyncClient(trust_env=False) as http:
            response = await http.post(
                f"{server.url}/graphql",
                json={"query": "query Who { viewer { id } }"},
                headers={"authorization": f"Bearer {server.tenant.api_key}"},
            )
            assert response.status_code == 200
            await eventually(
                lambda: "GraphQL Query: Who" in exported_spans(collector), "the spans came"
            )

    exported = collector.requests[0]
    assert (exported.method, exported.path) == ("POST", "/v1/traces")
    assert exported.headers["content-type"] == "application/x-protobuf"
    assert exported.body
    assert {"POST /graphql", "GraphQL Query: Who"} <= exported_spans(collector).keys()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # two writing processes
async def test_a_worker_process_exports_a_delivery_span_linked_to_the_publish(
    api: Api, settings: Settings, receiver: Receiver, spans: InMemorySpanExporter
) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish_to(api, tenant, "alice")
    publish = named(spans, "GraphQL Resolving: publishNotification")

    async with receiving() as collector:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env={
                **os.environ,
                "BELFRY_DATABASE_URL": settings.db_url,
                "BELFRY_ALLOW_PRIVATE_TARGETS": "true",
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
                "OTEL_SERVICE_NAME": "belfry-worker",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                "NO_PROXY": "127.0.0.1",
            },
        )
        try:
            await eventually(
                lambda: "deliver WEBHOOK" in exported_spans(collector), "the worker's span came"
            )
        finally:
            worker.terminate()
            await asyncio.to_thread(worker.wait, 30)  # the collector answers meanwhile

    assert receiver.only
    [link] = exported_spans(collector)["deliver WEBHOOK"].links
    assert int.from_bytes(link.trace_id, "big") == publish.context.trace_id
    assert int.from_bytes(link.span_id, "big") == publish.context.span_id


def exported_spans(collector: Receiver) -> dict[str, Span]:
    """The spans a collector received, by name (the last of each)."""
    return {
        span.name: span
        for request in collector.requests
        for resource in ExportTraceServiceRequest.FromString(request.body).resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }
