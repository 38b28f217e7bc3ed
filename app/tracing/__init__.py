"""Tracing with OpenTelemetry, on when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_*)
and the otel extra is installed. This module imports none of OpenTelemetry: with tracing off,
each call here costs one check of a module global, and nothing else changes."""

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from app.settings import Settings

if TYPE_CHECKING:  # services use this module, and import no Strawberry
    from starlette.middleware import Middleware
    from strawberry.extensions import SchemaExtension

    from app.tracing.otel import Tracing

logger = logging.getLogger("belfry.tracing")

_tracing: "Tracing | None" = None  # this process's, while tracing is on


class Attempt(Protocol):
    """A delivery attempt in progress, told how it ended."""

    def ended(self, status: str) -> None: ...


class _Untraced:
    def ended(self, status: str) -> None:
        pass


UNTRACED = _Untraced()


def configure(settings: Settings) -> bool:
    """Turns tracing on for this process when the settings name an endpoint; once per process
    (each `--workers` process, and `belfry worker`, configures its own). Says whether it is on."""
    if _tracing is not None:
        return True
    if not settings.otel_traces_endpoint:
        return False
    try:
        from app.tracing import otel
    except ImportError as error:
        # A warning rather than a refusal to start: tracing is never needed to serve.
        logger.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed (no module "
            "%s): tracing is off; install belfry[otel] to send traces",
            error.name,
        )
        return False
    start(otel.exporting(service_name=settings.otel_service_name))
    return True


def start(tracing: "Tracing") -> None:
    global _tracing
    _tracing = tracing


def stop() -> None:
    """Tracing off again, its instrumentation removed (for tests)."""
    global _tracing
    if _tracing is not None:
        _tracing.close()
    _tracing = None


def active() -> bool:
    return _tracing is not None


def schema_extensions() -> Sequence[Callable[[], "SchemaExtension"]]:
    """What the GraphQL schema adds while tracing is on (Strawberry's OpenTelemetry extension)."""
    return _tracing.schema_extensions() if _tracing is not None else ()


def middleware() -> list["Middleware"]:
    """What the application adds while tracing is on: a span per HTTP request."""
    return [_tracing.middleware()] if _tracing is not None else []


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, for work that runs later elsewhere."""
    return _tracing.traceparent() if _tracing is not None else None


@contextmanager
def delivery_attempt(
    *, delivery_id: str, channel: str, attempt: int, trace_parent: str | None
) -> Iterator[Attempt]:
    """A span around one attempt to deliver, linked to the publish that queued it."""
    if _tracing is None:
        yield UNTRACED
        return
    with _tracing.delivery_attempt(
        delivery_id=delivery_id, channel=channel, attempt=attempt, trace_parent=trace_parent
    ) as traced:
        yield traced
