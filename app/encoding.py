"""JSON for what the server writes most: live batches and websocket frames."""

import json
from dataclasses import asdict, is_dataclass
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

import orjson


def dumps(value: Any) -> str:
    """Compact JSON. orjson writes UUIDs, datetimes and enums itself, several times faster than
    the standard library; what it refuses (integers beyond 64 bits, which a notification's
    JSON data may hold) goes through the standard library instead."""
    try:
        # `default` covers what orjson knows only by exact type, such as asyncpg's UUIDs.
        return orjson.dumps(value, default=_default).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):  # orjson writes these itself
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
