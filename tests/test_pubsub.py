"""The broadcast hub: payloads, bounded queues, and Redis fan-out that survives a restart."""

import asyncio
import uuid
from collections.abc import Container
from dataclasses import asdict, replace
from datetime import UTC, datetime

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from app.pubsub import (
    ALL,
    DeliveryPayload,
    Hub,
    InboxEventKind,
    InboxMessage,
    NotificationPayload,
    RedisBackend,
    Signal,
    Subscription,
    decode_deliveries,
    decode_inbox,
    encode_created,
    encode_deliveries,
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
    everyone = {user for user, _ in same + other}
    assert [m for batch in wire for m in decode_inbox(batch, everyone)] == same + other


def test_a_batch_decodes_only_for_the_users_subscribed_here() -> None:
    wire = encode_inbox([created(i, unread=i) for i in range(10)])

    decoded = decode_inbox(wire[0], {"u3", "u7"})

    assert [(user, m.unread_count) for user, m in decoded] == [("u3", 3), ("u7", 7)]


def test_a_notification_created_for_many_travels_with_its_content_once() -> None:
    _, template = created(0, unread=0)
    assert template.notification is not None
    to = [(uuid.uuid4(), uuid.uuid4(), i) for i in range(1500)]

    wire = encode_created(template.notification, to)

    assert len(wire) == 2
    assert len(wire[0]) < 100 * 1000  # the content is not repeated per user
    decoded = [m for batch in wire for m in decode_inbox(batch, {str(u) for u, _, _ in to})]
    assert [(user, m.unread_count, m.notification_ids) for user, m in decoded] == [
        (str(u), unread, [str(n)]) for u, n, unread in to
    ]
    first = decoded[0][1].notification
    assert first is not None
    assert first.id == str(to[0][1])
    assert first.same_content(template.notification)


def delivery(i: int, **changes: object) -> DeliveryPayload:
    payload = DeliveryPayload(
        id=f"d{i}",
        recipient_id=f"u{i}",
        notification_id=f"n{i}",
        channel="IN_APP",
        category="a.b",
        status="SENT",
        attempt_count=1,
        last_error=None,
        rule_id=None,
        job_id=None,
        created_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        sent_at=datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC),
        next_attempt_at=None,
    )
    return replace(payload, **changes)  # type: ignore[arg-type]


def test_deliveries_share_what_they_have_in_common_on_the_wire() -> None:
    payloads = [delivery(i) for i in range(3)] + [delivery(3, status="QUEUED", sent_at=None)]

    wire = encode_deliveries([asdict(p) for p in payloads])

    assert len(wire) == 1
    decoded = decode_deliveries(wire[0], {ALL})
    assert [p for key, p in decoded] == payloads
    assert {key for key, _ in decoded} == {ALL}
    assert '"category":"a.b"' in wire[0] and wire[0].count("a.b") == 1


def test_deliveries_decode_for_the_recipients_and_tenant_wide_keys_subscribed_here() -> None:
    wire = encode_deliveries([asdict(delivery(i)) for i in range(5)])

    mine = decode_deliveries(wire[0], {"u1", "u4"})
    with_admin = decode_deliveries(wire[0], {ALL, "u1"})

    assert [(key, p.id) for key, p in mine] == [("u1", "d1"), ("u4", "d4")]
    assert [(key, p.id) for key, p in with_admin][:3] == [(ALL, "d0"), (ALL, "d1"), ("u1", "d1")]


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

    subscription.signal(Signal.RESYNC)

    items = [await subscription.get() for _ in range(subscription.pending())]
    assert items == [Signal.RESYNC]


async def received(subscription: Subscription, timeout: float = 5) -> object:
    return await asyncio.wait_for(subscription.get(), timeout)


def lines(raw: str, wanted: Container[str]) -> list[tuple[str, str]]:
    """A test decoder: each line of a message is "key=item"."""
    pairs = [tuple(line.split("=", 1)) for line in raw.splitlines()]
    return [(key, item) for key, item in pairs if key in wanted]


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


async def test_a_hub_stops_even_when_its_reader_survives_a_cancellation(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a reader that turns the first cancellation into a connection error, as redis-py
    # can when the cancellation lands while it (re)connects (a stand-in for that moment)
    survived: list[bool] = []

    async def read_surviving_one_cancel(self: RedisBackend, pubsub: object) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if survived:
                raise
            survived.append(True)
            raise RedisConnectionError("connection closed while cancelled") from None

    monkeypatch.setattr(RedisBackend, "_read", read_surviving_one_cancel)
    hub = Hub(redis_url)
    await hub.connect()

    # when it disconnects
    disconnecting = asyncio.create_task(hub.disconnect())
    done, _ = await asyncio.wait([disconnecting], timeout=10)

    # then it ends, rather than reconnecting and reading forever (unless cancelled)
    disconnecting.cancel()
    assert done == {disconnecting} and survived == [True]
