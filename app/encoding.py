"""JSON for what the server writes most: live batches and websocket frames; and the types of
JSON that Belfry keeps or passes on without looking inside."""

import json
from dataclasses import asdict, is_dataclass
from datetime import date
from enum import Enum
from typing import TypeAlias
from uuid import UUID

import orjson

# JSON as clients send it (a notification's data, an event's payload, a condition's value):
# on purpose, any JSON at all.
JsonValue: TypeAlias = dict[str, "JsonValue"] | list["JsonValue"] | str | int | float | bool | None
JsonObject: TypeAlias = dict[str, JsonValue]


def dumps(value: object) -> str:
    """Compact JSON. orjson writes UUIDs, datetimes and enums itself, several times faster than
    the standard library; what it refuses (integers beyond 64 bits, which a notification's
    JSON data may hold) goes through the standard library instead."""
    try:
        # `default` covers what orjson knows only by exact type, such as asyncpg's UUIDs.
        return orjson.dumps(value, default=_default).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=_default)


def _default(value: object) -> object:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):  # orjson writes these itself
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
