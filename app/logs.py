"""One logging configuration for Belfry's loggers, uvicorn's and Tortoise's: JSON lines or
text, each with its timestamp, level, logger and message, and the request id, tenant id and
GraphQL operation of the work it is about where those are known (see docs/operations.md)."""

import logging
import logging.config
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter

from app.encoding import JsonObject
from app.settings import Settings

# Set by the request-id middleware, the GraphQL extension and the delivery worker; tasks
# started meanwhile inherit them.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
tenant_id: ContextVar[str | None] = ContextVar("tenant_id", default=None)
operation: ContextVar[str | None] = ContextVar("operation", default=None)

CONTEXT = {"request_id": request_id, "tenant_id": tenant_id, "operation": operation}
# Fields some lines carry besides the context (`extra=`), shown after the message as text.
FIELDS = (
    *CONTEXT,
    "delivery_id",
    "channel",
    "status",
    "attempt",
    "method",
    "path",
    "status_code",
)

# httpx logs every request's URL at INFO, and a Slack webhook's or a Telegram bot's URL is
# its secret: these log warnings only, whatever the level.
QUIET = ("httpx", "httpcore")
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


@contextmanager
def fields(**values: str | None) -> Iterator[None]:
    """Context fields for the lines logged inside the block (and by tasks it starts)."""
    tokens = [(CONTEXT[name], CONTEXT[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being served, or a new one where there is none (a job)."""
    return request_id.get() or new_request_id()


class ContextFilter(logging.Filter):
    """Puts the known context fields on every record the handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in CONTEXT.items():
            value = var.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


class AccessFilter(logging.Filter):
    """uvicorn's access and websocket lines without the query string, which may carry a
    GraphQL document's variables or a token; with method, path and status as fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple):
            return True
        if record.name == "uvicorn.access" and len(args) == 5:
            client, method, path, version, status = args
            path = str(path).split("?", 1)[0]
            record.args = (client, method, path, version, status)
            record.method, record.path, record.status_code = method, path, status
        elif str(record.msg).startswith('%s - "WebSocket %s"') and len(args) >= 2:
            path = str(args[1]).split("?", 1)[0]
            record.args = (args[0], path, *args[2:])
            record.path = path
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLines(JsonFormatter):
    """One JSON object a line: timestamp, level, logger, message, then the fields known."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
        )

    def add_fields(
        self,
        log_data: dict[str, object],
        record: logging.LogRecord,
        message_dict: dict[str, object],
    ) -> None:
        log_data["timestamp"] = _timestamp(record)
        super().add_fields(log_data, record, message_dict)
        # uvicorn's own record attribute, which says nothing a reader wants.
        log_data.pop("color_message", None)


class TextLines(logging.Formatter):
    """`2026-01-02T03:04:05.678Z INFO belfry.delivery: message key=value ...`"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        known = [f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)]
        if known:
            line = f"{line} {' '.join(known)}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def is_json(settings: Settings) -> bool:
    if settings.log_format == "auto":
        return not sys.stderr.isatty()
    return settings.log_format == "json"


def config(settings: Settings) -> JsonObject:
    """The dictConfig for a process; uvicorn applies it in each of its worker processes, so it
    names its classes instead of holding them."""
    level = settings.log_level.upper()
    quiet = max(logging.WARNING, logging.getLevelNamesMapping()[level])
    formatter = "app.logs.JsonLines" if is_json(settings) else "app.logs.TextLines"
    uvicorn: JsonObject = {"level": level, "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"lines": {"()": formatter}},
        "filters": {
            "context": {"()": "app.logs.ContextFilter"},
            "access": {"()": "app.logs.AccessFilter"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "lines",
                "filters": ["context"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            **{name: dict(uvicorn) for name in UVICORN},
            "uvicorn.error": {**uvicorn, "filters": ["access"]},
            "uvicorn.access": {**uvicorn, "filters": ["access"]},
            **{name: {"level": quiet} for name in QUIET},
            # Tortoise and asyncpg set no level of their own: named so the level is theirs too.
            "tortoise": {"level": level},
            "asyncpg": {"level": level},
        },
    }


def configure(settings: Settings) -> None:
    logging.config.dictConfig(config(settings))


def quieten(name: str) -> None:
    """The named logger's information lines are dropped; warnings and errors still show."""
    logger = logging.getLogger(name)
    logger.setLevel(max(logging.WARNING, logger.getEffectiveLevel()))
