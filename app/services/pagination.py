"""Opaque keyset cursors over (created_at, id), newest first, or over (priority, created_at,
id), highest priority first; or over (a time, id), soonest first."""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.errors import BadUserInput

T = TypeVar("T")
U = TypeVar("U")
M = TypeVar("M", bound=Model)

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int = DEFAULT_PAGE_SIZE
    after: str | None = None
    offset: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.first <= MAX_PAGE_SIZE:
            raise BadUserInput(f"first must be between 1 and {MAX_PAGE_SIZE}", field="first")
        if self.offset is not None and self.offset < 0:
            raise BadUserInput("offset must not be negative", field="offset")
        if self.offset is not None and self.after is not None:
            raise BadUserInput("Pass either after or offset, not both", field="offset")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool

    def map(self, change: Callable[[T], U]) -> "Page[U]":
        """The same page, each item changed."""
        return Page(
            [change(item) for item in self.items],
            self.cursors,
            self.has_next_page,
            self.has_previous_page,
        )


async def soonest_first(query: QuerySet[M], request: PageRequest, column: str) -> Page[M]:
    """A page of `query` in (`column`, id) ascending order, `column` being a time."""
    ordered = query.order_by(column, "id")
    if request.after:
        ordered = ordered.filter(later_than(request.after, column))
    if request.offset:
        ordered = ordered.offset(request.offset)
    rows = await ordered.limit(request.first + 1)
    items = rows[: request.first]
    return Page(
        items=items,
        cursors=[encode_cursor(getattr(row, column), row.pk) for row in items],
        has_next_page=len(rows) > request.first,
        has_previous_page=bool(request.after or request.offset),
    )


def encode_cursor(created_at: datetime, id: UUID, priority: int | None = None) -> str:
    key = f"{created_at.isoformat()}|{id}"
    if priority is not None:
        key = f"{priority}|{key}"
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str, *, with_priority: bool = False) -> tuple[int, datetime, UUID]:
    """A cursor as encode_cursor writes it (with a priority or without, as asked; 0 stands in
    for a priority where there is none): a time with its offset, which must convert to UTC
    (a forged one at the ends of the calendar overflows there, and in the database)."""
    try:
        parts = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if len(parts) != 2 + with_priority:
            raise ValueError("a cursor of another order")
        priority = int(parts.pop(0)) if with_priority else 0
        created, id = parts
        created_at = datetime.fromisoformat(created)
        if created_at.tzinfo is None:
            raise ValueError("a cursor's time has an offset")
        return priority, created_at.astimezone(UTC), UUID(id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadUserInput("Invalid cursor", field="after") from exc


def _older(created_at: datetime, id: UUID) -> Q:
    return Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=id)


def older_than(cursor: str) -> Q:
    """Rows after the cursor in (created_at, id) descending order. The first bound is implied
    by the second, but only it lets the database seek to the cursor in an index on
    (..., created_at, id): the OR alone is a filter that walks every newer row first, so
    the page 50,000 deep cost 50,000 rows."""
    _, created_at, id = decode_cursor(cursor)
    return Q(created_at__lte=created_at) & _older(created_at, id)


def later_than(cursor: str, column: str) -> Q:
    """Rows after the cursor in (`column`, id) ascending order, the first bound to seek."""
    _, at, id = decode_cursor(cursor)
    seek: dict[str, Any] = {f"{column}__gte": at}
    later: dict[str, Any] = {f"{column}__gt": at}
    same: dict[str, Any] = {column: at, "id__gt": id}
    return Q(**seek) & (Q(**later) | Q(**same))


def below(cursor: str) -> Q:
    """Rows after the cursor in (priority, created_at, id) descending order; the first bound
    seeks, as in older_than."""
    priority, created_at, id = decode_cursor(cursor, with_priority=True)
    return Q(priority__lte=priority) & (
        Q(priority__lt=priority) | (Q(priority=priority) & _older(created_at, id))
    )
