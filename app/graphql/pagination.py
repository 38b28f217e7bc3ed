from collections.abc import Callable
from typing import Any, TypeVar

from strawberry.relay import PageInfo

from app.services.pagination import DEFAULT_PAGE_SIZE, Page, PageRequest

T = TypeVar("T")
E = TypeVar("E")


def page_request(first: int | None, after: str | None, offset: int | None = None) -> PageRequest:
    """From a connection field's arguments: `first` left out (null) asks for the usual page."""
    return PageRequest(
        first=DEFAULT_PAGE_SIZE if first is None else first, after=after, offset=offset
    )


def edges(page: Page[T], edge: Callable[..., E], node: Callable[[T], Any]) -> list[E]:
    """The page's items as `edge(cursor=..., node=...)`, each node made by `node`."""
    return [
        edge(cursor=cursor, node=node(item))
        for item, cursor in zip(page.items, page.cursors, strict=True)
    ]


def page_info(page: Page[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
