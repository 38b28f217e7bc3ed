"""The OpenTelemetry side of tracing (the otel extra), imported only once tracing is on: the
tracer provider and its OTLP/HTTP exporter, the instrumentation of HTTP requests, GraphQL
operations, asyncpg and httpx, and the spans of delivery attempts."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.http import get_excluded_urls
from starlette.middleware import Middleware
from starlette.routing import Match
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension

W3C = TraceContextTextMapPropagator()


class AttemptSpan:
    def __init__(self, span: Span) -> None:
        self.span = span

    def ended(self, status: str) -> None:
        self.span.set_attribute("belfry.delivery.outcome", status)
        if status != "SENT":
            # No description: provider errors may quote the target's address or reply.
            self.span.set_status(Status(StatusCode.ERROR))


class Tracing:
    """Tracing in this process, through `provider`."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("belfry")
        self.asyncpg = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
        self.asyncpg.instrument(tracer_provider=provider)
        self.httpx = HTTPXClientInstrumentor()
        self.httpx.instrument(tracer_provider=provider, async_request_hook=_origin_only)

    def close(self) -> None:
        self.asyncpg.uninstrument()
        self.httpx.uninstrument()

    def schema_extensions(self) -> list[Callable[[], SchemaExtension]]:
        return [
            partial(OpenTelemetryExtension, arg_filter=_no_arguments, tracer_provider=self.provider)
        ]

    def middleware(self) -> Middleware:
        return Middleware(
            OpenTelemetryMiddleware,
            excluded_urls=get_excluded_urls("STARLETTE"),  # OTEL_PYTHON_STARLETTE_EXCLUDED_URLS
            default_span_details=_span_details,
            server_request_hook=_without_query,
            tracer_provider=self.provider,
            # One span per request or socket, not one more per message a socket carries.
            exclude_spans=["receive", "send"],
        )

    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        W3C.inject(carrier)
        return carrier.get("traceparent")

    @contextmanager
    def delivery_attempt(
        self, *, delivery_id: str, channel: str, attempt: int, trace_parent: str | None
    ) -> Iterator[AttemptSpan]:
        # A trace of its own (it runs later, maybe in another process), linked to the publish.
        with self.tracer.start_as_current_span(
            f"deliver {channel}",
            context=otel_context.Context(),
            kind=SpanKind.CONSUMER,
            links=_links_to(trace_parent),
            attributes={
                "belfry.delivery.id": delivery_id,
                "belfry.delivery.channel": channel,
                "belfry.delivery.attempt": attempt,
            },
        ) as span:
            yield AttemptSpan(span)


def exporting(*, service_name: str) -> Tracing:
    """Tracing that sends spans in batches over OTLP/HTTP, where the OTEL_EXPORTER_OTLP_*
    variables say; flushed when the process exits."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)  # for any other library that traces
    return Tracing(provider)


def _links_to(trace_parent: str | None) -> list[Link]:
    if not trace_parent:
        return []
    linked = trace.get_current_span(W3C.extract({"traceparent": trace_parent})).get_span_context()
    return [Link(linked)] if linked.is_valid else []


def _no_arguments(arguments: dict[str, Any], info: object) -> dict[str, Any]:
    # Arguments carry message bodies, recipients' addresses and channel secrets.
    return {}


async def _origin_only(span: Span, request: Any) -> None:
    """Outgoing URLs are recorded as their origin: a Slack webhook's path or a Telegram bot's
    is its secret."""
    url = httpx.URL(str(request.url)) if not isinstance(request.url, httpx.URL) else request.url
    origin = f"{url.scheme}://{url.netloc.decode()}"
    for name in ("http.url", "url.full"):
        span.set_attribute(name, origin)


def _without_query(span: Span, scope: dict[str, Any]) -> None:
    """A GET request's query string carries a GraphQL document and its variables: kept out."""
    recorded = getattr(span, "attributes", None) or {}
    for name in ("http.url", "url.full"):
        if isinstance(url := recorded.get(name), str):
            span.set_attribute(name, url.split("?", 1)[0])
    if "url.query" in recorded:
        span.set_attribute("url.query", "")


def _span_details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`POST /graphql`: the route, never the full path, which may carry ids."""
    route = next(
        (
            getattr(candidate, "path", "")
            for candidate in scope["app"].routes
            if candidate.matches(scope)[0] is not Match.NONE
        ),
        "",
    )
    method = scope.get("method") or "WEBSOCKET"
    return f"{method} {route}".strip(), {"http.route": route} if route else {}
