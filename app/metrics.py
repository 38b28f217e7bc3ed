"""Prometheus metrics: what each process counts, and the exposition at /metrics.

Labels carry bounded values only (channels, statuses, operation types, names from a capped
set), never a tenant, a user or anything a caller can make up at will. Under
`belfry serve --workers N` every process writes its values to PROMETHEUS_MULTIPROC_DIR
(prometheus-client's multiprocess mode) and a scrape of any one of them reads them all."""

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own switch, set by `serve`

GRAPHQL_OPERATIONS = Counter(
    "belfry_graphql_operations_total",
    "GraphQL operations by operation name, type and outcome (ok, client_error, server_error)",
    ["operation", "type", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "belfry_graphql_operation_duration_seconds",
    "Time to answer a GraphQL query or mutation",
    ["operation", "type"],
)
WEBSOCKETS = Gauge(
    "belfry_websocket_connections",
    "Open websocket connections by subprotocol",
    ["protocol"],
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "belfry_subscriptions_active",
    "Active GraphQL subscriptions by field (websockets and HTTP streams)",
    ["kind"],
    multiprocess_mode="livesum",
)
LIVE_EVENTS = Counter(
    "belfry_live_events_total",
    "Live events handed to this process's subscribers, by topic",
    ["topic"],
)
PUBLISHES = Counter("belfry_publishes_total", "Publishes written (one per call, any recipients)")
NOTIFICATIONS = Counter("belfry_notifications_created_total", "Notifications written")
DELIVERIES = Counter(
    "belfry_deliveries_total",
    "Delivery attempts by channel and outcome: sent or failed (final) or requeued (retry)",
    ["channel", "status"],
)
SEND_DURATION = Histogram(
    "belfry_provider_send_duration_seconds",
    "Time a provider took to send one delivery",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RETENTION_RUNS = Counter(
    "belfry_retention_runs_total", "Retention runs by outcome (ok, error)", ["outcome"]
)
RETENTION_PURGED = Counter(
    "belfry_retention_purged_total", "Rows retention erased, by kind", ["kind"]
)
DIGEST_RUNS = Counter("belfry_digest_runs_total", "Digest runs by outcome (ok, error)", ["outcome"])
DIGESTS_SENT = Counter("belfry_digests_sent_total", "Digests sent")
INBOX_CLOCK_RUNS = Counter(
    "belfry_inbox_clock_runs_total", "Inbox clock runs by outcome (ok, error)", ["outcome"]
)
SCHEDULE_RUNS = Counter(
    "belfry_schedule_runs_total",
    "Runs sending the scheduled notifications due, by outcome (ok, error)",
    ["outcome"],
)

# --- operation names -----------------------------------------------------------------------

OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_OPERATION_NAMES = 200
OTHER = "other"
UNNAMED = "unnamed"


class OperationNames:
    """Names as labels: the first few hundred well-formed names signed-in callers use, in this
    process; any other name (and every name from a caller without credentials) is `other`,
    so a client inventing names cannot grow the label set."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self.known: set[str] = set()

    def label(self, name: str | None, *, signed_in: bool) -> str:
        if not name:
            return UNNAMED
        if name in self.known:
            return name
        if not signed_in or len(self.known) >= self.limit or not OPERATION_NAME.fullmatch(name):
            return OTHER
        self.known.add(name)
        return name


operation_names = OperationNames()

# --- the delivery queue, read at scrape time -----------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueLine:
    channel: str
    depth: int
    oldest_age_seconds: float


class QueueCollector(Collector):
    """The queue as the database had it when the scrape began: right however many processes
    and workers there are, since they all share the table."""

    def __init__(self, lines: Iterable[QueueLine]) -> None:
        self.lines = list(lines)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "belfry_delivery_queue_depth",
            "Deliveries queued or being sent, by channel",
            labels=["channel"],
        )
        age = GaugeMetricFamily(
            "belfry_delivery_queue_oldest_age_seconds",
            "Age of the oldest delivery queued or being sent, by channel",
            labels=["channel"],
        )
        for line in self.lines:
            depth.add_metric([line.channel], line.depth)
            age.add_metric([line.channel], line.oldest_age_seconds)
        yield depth
        yield age


# --- exposition ----------------------------------------------------------------------------


def multiprocess_dir() -> Path | None:
    path = os.environ.get(MULTIPROC_ENV)
    return Path(path) if path else None


def exposition(queue: Iterable[QueueLine], accept: str | None) -> tuple[bytes, str]:
    """This process's metrics, or every process's in multiprocess mode, and the queue, in the
    format the scraper accepts (Prometheus text, or OpenMetrics when asked), and its type."""
    registry = CollectorRegistry(auto_describe=False)
    shared = multiprocess_dir()
    if shared is None:
        registry.register(REGISTRY)  # a registry collects like any collector
    else:
        forget_dead_processes(shared)
        multiprocess.MultiProcessCollector(registry, path=str(shared))  # type: ignore[no-untyped-call]
    registry.register(QueueCollector(queue))
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type


def forget_dead_processes(path: Path) -> None:
    """A worker that died (and was replaced) leaves its live gauges' files behind: they must
    no longer count towards open sockets and subscriptions."""
    for file in path.glob("gauge_live*_*.db"):
        pid = int(file.stem.rsplit("_", 1)[1])
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def shared_between_processes() -> Iterator[Path]:
    """A fresh directory for the processes started in the block to write their metrics to,
    removed afterwards. The variable is set before any of them imports prometheus-client."""
    path = Path(tempfile.mkdtemp(prefix="belfry-metrics-"))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(path, ignore_errors=True)
