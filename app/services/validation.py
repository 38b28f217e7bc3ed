"""Input checks shared by several services; each raises BadUserInput naming the field."""

import ipaddress
import math
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit
from uuid import UUID

from app.encoding import JsonValue, dumps
from app.errors import BadUserInput

CATEGORY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
MAX_CATEGORY = 100
# JSON a client hands us to keep (notification data, event payloads, rule values): large and
# deep enough for any real payload, small enough that a page of them stays a page.
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
MAX_CONFIG_BYTES = 16 * 1024  # a channel's config: addresses, tokens and a few headers
MAX_LINK = 2048
WEB_SCHEMES = frozenset({"http", "https"})
# Characters a browser drops from a URL (tabs, newlines, leading spaces and controls) or that
# hide in one (spaces, invisible formatting): with them, what is checked is not what is
# followed, as in "java\tscript:".
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})


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


def check_json(
    field: str,
    value: JsonValue,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> None:
    """JSON that every client can read back and both databases can store: finite numbers
    (JSON has no NaN or Infinity), nesting at most `max_depth` deep, at most `max_bytes`
    encoded."""
    stack: list[tuple[JsonValue, str, int]] = [(value, field, 0)]
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


def check_kept_json(field: str, value: JsonValue) -> None:
    """JSON kept as a column's whole value (notification data, an event payload): as
    check_json, and not a bare string, which the ORM takes for JSON already encoded ("x" fails
    to store, "5" would be kept as the number 5)."""
    if isinstance(value, str):
        raise BadUserInput(
            f'{field} may be any JSON but a bare string: wrap it, as in {{"text": "..."}}',
            field=field,
        )
    check_json(field, value)


def check_link(field: str, link: str | None) -> None:
    """A link (a notification's, a button's) that a browser follows to a web page only: an
    absolute http(s) URL, or a path on the linking site that starts with a single "/"."""
    if link is None:
        return
    check_length(field, link, MAX_LINK)
    if not is_safe_link(link):
        raise BadUserInput(
            f"{field} must be an absolute http:// or https:// URL, or a path starting with a "
            'single "/"',
            field=field,
        )


def is_safe_link(link: str) -> bool:
    """Whether a browser would read `link` as we do, as an http(s) URL or a path on the page's
    own site: never as another scheme (javascript:, data:) and never, from a path, another host
    ("//host", and "/\\host", since browsers take a backslash for a slash)."""
    if not link or len(link) > MAX_LINK or "\\" in link or any(map(_hidden, link)):
        return False
    if link.startswith("/"):
        return not link.startswith("//")
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError:  # a bad port, bad brackets, or a host that changes under NFKC
        return False
    # Browsers find a host in "https:host" and "https:/host" too, where urlsplit sees a path.
    after_scheme = link[len(parts.scheme) + 1 :]
    return parts.scheme in WEB_SCHEMES and after_scheme.startswith("//") and _plain_host(parts)


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def _plain_host(parts: SplitResult) -> bool:
    """A host and nothing else before the path: no user name or password (where parsers
    disagree on which "@" ends them), no percent-escapes (which browsers decode in a host)."""
    netloc, host = parts.netloc, parts.hostname
    if not host or "@" in netloc or "%" in netloc:
        return False
    if netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return all(map(_host_label, host.removesuffix(".").split(".")))


def _host_label(label: str) -> bool:
    """Letters and digits of any script (with their accents), '-' and '_'."""
    return bool(label) and all(
        c.isalnum() or c in "-_" or unicodedata.category(c).startswith("M") for c in label
    )


def parse_uuid(value: str) -> UUID | None:
    """Ids from clients are opaque strings; anything that is not a UUID names nothing."""
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def parse_id(value: str, field: str = "id") -> UUID:
    """An id that names one thing: one that is not even an id is the caller's mistake, said
    as such; what a well-formed id that names nothing means is the operation's to say."""
    parsed = parse_uuid(value)
    if parsed is None:
        raise BadUserInput(f"{field} is not an id: Belfry's ids are UUIDs", field=field)
    return parsed


MAX_TAGS = 10
MAX_TAG = 50


def check_tags(tags: Sequence[str], field: str = "tags") -> None:
    if len(tags) > MAX_TAGS:
        raise BadUserInput(f"At most {MAX_TAGS} tags", field=field)
    for tag in tags:
        check_length(field, tag, MAX_TAG, required=True)


def distinct_tags(tags: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tag.strip() for tag in tags))
