"""Column types the models share."""

import functools
import json
from collections.abc import Callable
from typing import Literal, TypeVar, cast, overload

from tortoise import fields

from app.encoding import JsonValue

T = TypeVar("T")

_dumps = functools.partial(json.dumps, separators=(",", ":"))


@overload
def json_field(
    *, null: bool = False, default: Callable[[], JsonValue] | None = None
) -> fields.JSONField[JsonValue]: ...


@overload
def json_field(
    load: Callable[[JsonValue], T],
    dump: Callable[[T], object] | None = None,
    *,
    null: Literal[True],
) -> fields.JSONField[T | None]: ...


@overload
def json_field(
    load: Callable[[JsonValue], T],
    dump: Callable[[T], object] | None = None,
    *,
    null: Literal[False] = False,
    default: Callable[[], object] | None = None,  # such as list: an empty one
) -> fields.JSONField[T]: ...


def json_field(
    load: Callable[[JsonValue], T] | None = None,
    dump: Callable[[T], object] | None = None,
    *,
    null: bool = False,
    default: Callable[[], object] | None = None,
) -> fields.JSONField[T] | fields.JSONField[T | None] | fields.JSONField[JsonValue]:
    """A JSON column that keeps what clients send exactly. With orjson installed Tortoise
    would use it here, and orjson refuses integers beyond 64 bits and reads them back as
    floats: the standard library keeps them.

    With `load`, a row's value is what `load` makes of the JSON, once, as the row is read, and
    is written as the JSON `dump` makes of it (as it is, without `dump`). NULL is None either
    way."""
    if load is None:
        return fields.JSONField[JsonValue](
            encoder=_dumps, decoder=json.loads, null=null, default=default
        )
    parse = load

    def decoder(text: str | bytes) -> T:
        return parse(json.loads(text))

    encoder = _dumps if dump is None else lambda value: _dumps(dump(value))
    return fields.JSONField[T](encoder=encoder, decoder=decoder, null=null, default=default)


def strings(value: JsonValue) -> list[str]:
    """A list of strings, as Belfry writes it."""
    return cast(list[str], value)


def numbers(value: JsonValue) -> list[int]:
    """A list of integers, as Belfry writes it."""
    return cast(list[int], value)
