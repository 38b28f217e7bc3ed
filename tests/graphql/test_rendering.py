"""Pre-rendered subscription events must match what graphql-core would have produced."""

import asyncio
import gc
import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry

from app.graphql.inbox import InboxEvent
from app.graphql.limits import LIVE_DOCUMENTS, RequestLimits
from app.graphql.rendering import EventExecutor, Rendered, renderer_for
from app.live.messages import ActionPayload, InboxEventKind, InboxMessage, NotificationPayload
from app.models import Priority

NOTIFICATION = NotificationPayload(
    id="n1",
    category="a.b",
    title="T",
    body=None,
    link="/x",
    data={"nested": [1, {"k": None}]},
    priority=Priority.HIGH,
    actions=[ActionPayload(id="open", label="Open", primary=True)],
    tags=["calls", "weekly"],
    read_at=None,
    seen_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
    archived_at=None,
    interacted_at=None,
    snoozed_until=None,
    collapse_key="calls",
    occurrences=3,
    expires_at=datetime(2026, 2, 1, tzinfo=UTC),
    created_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
)
# The live messages themselves: InboxEvent is served from them, with no copy per event.
EVENTS = [
    InboxMessage(InboxEventKind.SYNC, 0, 1),
    InboxMessage(InboxEventKind.CREATED, 2, 3, notification=NOTIFICATION, notification_ids=["n1"]),
    InboxMessage(InboxEventKind.UPDATED, 0, 0, all=True, category="a.b"),
]
rendered_kinds: list[bool] = []


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def events(self, info: strawberry.Info, fast: bool) -> AsyncGenerator[InboxEvent, None]:
        render = renderer_for(info) if fast else (lambda event: event)
        for event in EVENTS:
            out = render(event)
            rendered_kinds.append(isinstance(out, Rendered))
            yield out


schema = strawberry.Schema(
    query=Query, subscription=Subscription, execution_context_class=EventExecutor
)


async def results(query: str, fast: bool) -> list[Any]:
    stream = await schema.subscribe(query, variable_values={"fast": fast})
    collected = []
    async for result in stream:
        assert not result.errors, result.errors
        collected.append(result.data)
    return collected


@pytest.mark.parametrize(
    ("selection", "renders"),
    [
        ("kind unreadCount notificationIds all category", True),
        ("kind notification { id title body link data isRead readAt createdAt }", True),
        ("kind notification { priority tags actions { id label url primary } occurrences }", True),
        ("notification { ... on Notification { actions { id label } } }", False),
        ("count: unreadCount __typename notification { __typename ID: id }", True),
        ("kind ...F", False),
        ("kind notification { ... on Notification { id } }", False),
        ("kind unreadCount @include(if: true)", False),
        ("kind kind", False),
    ],
)
async def test_rendered_events_equal_executed_ones(selection: str, renders: bool) -> None:
    fragment = " fragment F on InboxEvent { unreadCount }" if "...F" in selection else ""
    query = f"subscription($fast: Boolean!) {{ events(fast: $fast) {{ {selection} }} }}{fragment}"
    rendered_kinds.clear()

    fast = await results(query, fast=True)
    took_fast_path = set(rendered_kinds)
    slow = await results(query, fast=False)

    assert fast == slow and len(fast) == len(EVENTS)
    assert took_fast_path == {renders}


async def test_an_aliased_root_field_keeps_its_alias() -> None:
    query = "subscription { feed: events(fast: true) { kind } }"

    first = (await results(query, fast=True))[0]

    assert first == {"feed": {"kind": "SYNC"}}


@strawberry.type
class HeldSubscription:
    @strawberry.subscription
    async def events(self, info: strawberry.Info) -> AsyncGenerator[InboxEvent, None]:
        seen.append((info._raw_info.operation, renderer_for(info)))
        yield renderer_for(info)(EVENTS[0])
        await asyncio.Event().wait()  # held open, as a live subscription is


seen: list[tuple[object, object]] = []
held_schema = strawberry.Schema(
    query=Query,
    subscription=HeldSubscription,
    execution_context_class=EventExecutor,
    extensions=[RequestLimits],
)


async def test_subscriptions_that_send_the_same_document_share_it_and_its_renderer() -> None:
    # Given two subscriptions open at once with the same text (a text of this test only)
    query = f"subscription Held{uuid.uuid4().hex} {{ events {{ kind unreadCount }} }}"
    seen.clear()
    streams = [await held_schema.subscribe(query) for _ in range(2)]
    for stream in streams:
        assert not (await anext(stream)).errors

    # Then the second used the parsed document the first holds, and the same renderer
    (first_operation, first_renderer), (second_operation, second_renderer) = seen
    assert second_operation is first_operation
    assert second_renderer is first_renderer

    # When both end, nothing keeps the document
    for stream in streams:
        await stream.aclose()
    seen.clear()
    gc.collect()
    assert not [key for key in LIVE_DOCUMENTS if key[0] == query]
