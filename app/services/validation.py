"""Input checks shared by several services; each raises BadUserInput naming the field."""

import math
import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from app.encoding import dumps
from app.errors import BadUserInput

CATEGORY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
MAX_CATEGORY = 100
# Text no database of ours stores: PostgreSQL refuses NUL in text and JSON, and an unpaired
# surrogate is not UTF-8 at all.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# JSON a client hands us to keep (notification data, event payloads, rule values): large and
# deep enough for any real payload, small enough that a page of them stays a page.
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
MAX_CONFIG_BYTES = 16 * 1024  # a channel's config: addresses, tokens and a few headers


def check_length(field: str, value: str, limit: int, *, required: bool = False) -> None:
    if required and not value.strip():
        raise BadUserInput(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise BadUserInput(f"{field} must be at most {limit} characters", field=field)


def check_external_id(external_id: str, field: str = "externalId") -> None:
    check_length(field, external_id, 200, required=True)


def check_category(category: str, field: str = "category") -> None:
    if not CATEGORY_PATTERN.match(category):
        raise BadUserInput(
            f"{field} {category[:MAX_CATEGORY]!r} must be 1-100 letters, digits, '.', '_', ':' "
            "or '-'",
            field=field,
        )


def check_category_filter(categories: list[str] | None, field: str = "category") -> None:
    """Filters only look categories up, so any text will do, as long as a stored category
    could be that long."""
    for category in categories or ():
        check_length(field, category, MAX_CATEGORY)


def is_storable(text: str) -> bool:
    return UNSTORABLE.search(text) is None


def check_json(
    field: str, value: Any, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> None:
    """JSON that every client can read back and both databases can store: finite numbers
    (JSON has no NaN or Infinity), nesting at most `max_depth` deep, at most `max_bytes`
    encoded."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > max_depth:
            raise BadUserInput(f"{field} nests deeper than {max_depth} levels", field=field)
        if isinstance(item, float) and not math.isfinite(item):
            name = "NaN" if math.isnan(item) else "Infinity" if item > 0 else "-Infinity"
            raise BadUserInput(
                f"{path} is {name}, which JSON cannot carry: send a finite number or a string",
                field=field,
            )
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}"[:200], depth + 1) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]"[:200], depth + 1) for i, v in enumerate(item))
    size = len(dumps(value).encode())
    if size > max_bytes:
        raise BadUserInput(
            f"{field} is {size} bytes as JSON; at most {max_bytes} are accepted", field=field
        )


def check_kept_json(field: str, value: Any) -> None:
    """JSON kept as a column's whole value (notification data, an event payload): as
    check_json, and not a bare string, which the ORM takes for JSON already encoded ("x" fails
    to store, "5" would be kept as the number 5)."""
    if isinstance(value, str):
        raise BadUserInput(
            f'{field} may be any JSON but a bare string: wrap it, as in {{"text": "..."}}',
            field=field,
        )
    check_json(field, value)


def parse_uuid(value: str) -> UUID | None:
    """Ids from clients are opaque strings; anything that is not a UUID names nothing."""
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


MAX_TAGS = 10
MAX_TAG = 50


def check_tags(tags: Sequence[str], field: str = "tags") -> None:
    if len(tags) > MAX_TAGS:
        raise BadUserInput(f"At most {MAX_TAGS} tags", field=field)
    for tag in tags:
        check_length(field, tag, MAX_TAG, required=True)


def distinct_tags(tags: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tag.strip() for tag in tags))
