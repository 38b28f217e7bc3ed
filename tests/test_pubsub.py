"""The broadcast hub: payloads, bounded queues, and Redis fan-out that survives a restart."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from app.pubsub import (
    Hub,
    InboxEventKind,
    InboxMessage,
    NotificationPayload,
    Signal,
    Subscription,
    decode_inbox,
    encode_inbox,
)
from tests.conftest import RedisServer


def created(user: int, unread: int, title: str = "T") -> tuple[str, InboxMessage]:
    payload = NotificationPayload(
        id=f"n{user}",
        category="a.b",
        title=title,
        body=None,
        link="/x",
        data={"k": [1, 2]},
        read_at=None,
        created_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    )
    message = InboxMessage(
        kind=InboxEventKind.CREATED,
        unread_count=unread,
        notification=payload,
        notification_ids=[f"n{user}"],
        categories=["a.b"],
    )
    return f"u{user}", message


def test_messages_survive_the_wire_in_as_few_batches_as_they_allow() -> None:
    same = [created(i, unread=i) for i in range(2500)]
    other = [created(9, unread=1, title="other"), ("u1", InboxMessage(InboxEventKind.UPDATED, 0))]

    wire = encode_inbox(same + other)

    assert len(wire) == 5  # 1000 + 1000 + 500 alike, then two of their own
    assert [m for batch in wire for m in decode_inbox(batch)] == same + other


@pytest.mark.parametrize(
    ("message", "category", "touched"),
    [
        (InboxMessage(InboxEventKind.CREATED, 1, categories=["a.b"]), None, True),
        (InboxMessage(InboxEventKind.CREATED, 1, categories=["a.b"]), "a.b", True),
        (InboxMessage(InboxEventKind.CREATED, 1, categories=["a.b"]), "c.d", False),
        (InboxMessage(InboxEventKind.UPDATED, 0, all=True), "c.d", True),
        (InboxMessage(InboxEventKind.UPDATED, 0, all=True, category="a.b"), "c.d", False),
    ],
)
def test_a_message_knows_which_counts_it_can_move(message, category, touched) -> None:
    assert message.touches(category) is touched


async def test_a_full_queue_trades_its_backlog_for_one_resync() -> None:
    subscription = Subscription(limit=3)

    for i in range(10):
        subscription.offer(str(i))

    items = [await subscription.get() for _ in range(subscription.pending())]
    # 0-2 fill it; 3 overflows into [RESYNC]; 4-5 join; 6 overflows; 7-8 join; 9 overflows.
    assert subscription.overflows == 3
    assert items == [Signal.RESYNC]


async def test_a_signal_gets_through_a_full_queue() -> None:
    subscription = Subscription(limit=2)
    subscription.offer("1")
    subscription.offer("2")

    subscription.signal(Signal.EXPIRED)

    items = [await subscription.get() for _ in range(subscription.pending())]
    assert items[-1] is Signal.EXPIRED


async def received(subscription: Subscription, timeout: float = 5) -> object:
    return await asyncio.wait_for(subscription.get(), timeout)


def lines(raw: str) -> list[tuple[str, str]]:
    """A test decoder: each line of a message is "key=item"."""
    return [tuple(line.split("=", 1)) for line in raw.splitlines()]  # type: ignore[misc]


async def test_memory_hub_delivers_to_every_subscriber_of_a_channel() -> None:
    hub = Hub("memory://")
    await hub.connect()
    try:
        async with (
            hub.subscription("a", "alice", decode=lines) as first,
            hub.subscription("a", "alice", decode=lines) as second,
            hub.subscription("a", "bob", decode=lines) as bob,
            hub.subscription("b", "alice", decode=lines) as elsewhere,
        ):
            await hub.publish_many([("a", "alice=1\nbob=2"), ("b", "alice=3")])

            assert (await received(first)) == "1"
            assert (await received(second)) == "1"
            assert (await received(bob)) == "2"
            assert (await received(elsewhere)) == "3"
        assert hub.subscriber_count() == 0
    finally:
        await hub.disconnect()


async def test_redis_carries_a_batch_between_two_hubs(redis_url: str) -> None:
    channel = f"test:{uuid.uuid4()}"
    listener = Hub(redis_url, queue_limit=5000)
    speaker = Hub(redis_url)
    await listener.connect()
    await speaker.connect()
    try:
        async with listener.subscription(channel, "k", decode=lines) as subscription:
            await speaker.publish_many([(channel, f"k={i}") for i in range(2500)])

            got = [await received(subscription) for _ in range(2500)]
        assert got == [str(i) for i in range(2500)]
    finally:
        await listener.disconnect()
        await speaker.disconnect()


async def test_a_redis_restart_resubscribes_and_asks_subscribers_to_resync(
    own_redis: RedisServer,
) -> None:
    channel = f"test:{uuid.uuid4()}"
    listener = Hub(own_redis.url)
    await listener.connect()
    try:
        async with listener.subscription(channel, "k", decode=lines) as subscription:
            own_redis.stop()
            await asyncio.sleep(0.3)
            own_redis.start()

            assert (await received(subscription, timeout=10)) is Signal.RESYNC
            speaker = Hub(own_redis.url)
            await speaker.connect()
            await speaker.publish_many([(channel, "k=after")])
            await speaker.disconnect()

            assert (await received(subscription)) == "after"
    finally:
        await listener.disconnect()


async def test_a_hub_starts_while_redis_is_down_and_connects_later(
    own_redis: RedisServer,
) -> None:
    own_redis.stop()
    channel = f"test:{uuid.uuid4()}"
    listener = Hub(own_redis.url)
    await listener.connect()  # does not raise: it keeps trying in the background
    try:
        async with listener.subscription(channel, "k", decode=lines) as subscription:
            own_redis.start()
            assert (await received(subscription, timeout=10)) is Signal.RESYNC
    finally:
        await listener.disconnect()
