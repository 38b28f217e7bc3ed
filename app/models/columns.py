"""Column types the models share."""

import functools
import json
from typing import Any

from tortoise import fields

_dumps = functools.partial(json.dumps, separators=(",", ":"))


def json_field(**kwargs: Any) -> Any:
    """A JSON column that keeps what clients send exactly. With orjson installed Tortoise
    would use it here, and orjson refuses integers beyond 64 bits and reads them back as
    floats: the standard library keeps them."""
    return fields.JSONField(encoder=_dumps, decoder=json.loads, **kwargs)
