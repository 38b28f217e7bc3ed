"""The hub over each backend: fan-out to keyed mailboxes, Redis between processes, and a
Redis that restarts or is down at first."""

import asyncio
import uuid
from collections.abc import Container

import pytest
from redis import asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from app.live.backends import replay
from app.live.backends.redis import RedisBackend
from app.live.hub import Hub
from app.live.mailbox import Mailbox
from app.live.messages import Signal
from app.live.topics import Topic
from tests.conftest import RedisServer


async def received(subscription: Mailbox[str], timeout: float = 5) -> object:
    return await asyncio.wait_for(subscription.get(), timeout)


def lines(raw: str, wanted: Container[str]) -> list[tuple[str, str]]:
    """A test codec: each line of a message is "key=item"."""
    pairs = [tuple(line.split("=", 1)) for line in raw.splitlines()]
    return [(key, item) for key, item in pairs if key in wanted]


# A topic of the tests' own, a channel per "tenant".
LINES: Topic[str] = Topic("test", lines, per_tenant=True)


async def test_memory_hub_delivers_to_every_subscriber_of_a_channel() -> None:
    hub = Hub("memory://")
    await hub.connect()
    try:
        async with (
            hub.subscription(LINES, "alice", tenant_id="a") as first,
            hub.subscription(LINES, "alice", tenant_id="a") as second,
            hub.subscription(LINES, "bob", tenant_id="a") as bob,
            hub.subscription(LINES, "alice", tenant_id="b") as elsewhere,
        ):
            await hub.publish_many(
                [(LINES.channel("a"), "alice=1\nbob=2"), (LINES.channel("b"), "alice=3")]
            )

            assert (await received(first)) == "1"
            assert (await received(second)) == "1"
            assert (await received(bob)) == "2"
            assert (await received(elsewhere)) == "3"
        assert hub.subscriber_count() == 0
    finally:
        await hub.disconnect()


async def test_redis_carries_a_batch_between_two_hubs(redis_url: str) -> None:
    tenant = str(uuid.uuid4())
    listener = Hub(redis_url, queue_limit=5000)
    speaker = Hub(redis_url)
    await listener.connect()
    await speaker.connect()
    try:
        async with listener.subscription(LINES, "k", tenant_id=tenant) as subscription:
            await speaker.publish_many([(LINES.channel(tenant), f"k={i}") for i in range(2500)])

            got = [await received(subscription) for _ in range(2500)]
        assert got == [str(i) for i in range(2500)]
    finally:
        await listener.disconnect()
        await speaker.disconnect()


async def test_a_redis_restart_resubscribes_and_asks_subscribers_to_resync(
    own_redis: RedisServer,
) -> None:
    tenant = str(uuid.uuid4())
    listener = Hub(own_redis.url)
    await listener.connect()
    try:
        async with listener.subscription(LINES, "k", tenant_id=tenant) as subscription:
            own_redis.stop()
            await asyncio.sleep(0.3)
            own_redis.start()

            assert (await received(subscription, timeout=10)) is Signal.RESYNC
            speaker = Hub(own_redis.url)
            await speaker.connect()
            await speaker.publish_many([(LINES.channel(tenant), "k=after")])
            await speaker.disconnect()

            assert (await received(subscription)) == "after"
    finally:
        await listener.disconnect()


async def test_a_hub_starts_while_redis_is_down_and_connects_later(
    own_redis: RedisServer,
) -> None:
    own_redis.stop()
    tenant = str(uuid.uuid4())
    listener = Hub(own_redis.url)
    await listener.connect()  # does not raise: it keeps trying in the background
    try:
        async with listener.subscription(LINES, "k", tenant_id=tenant) as subscription:
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


# --- kept messages ------------------------------------------------------------------------------


def kept_lines(raw: str, wanted: Container[str]) -> list[tuple[str, str]]:
    """As lines, for a kept topic: "ID key=item", each item given as "item@ID"."""
    kept_id, _, batch = raw.partition(" ")
    return [(key, f"{item}@{kept_id}") for key, item in lines(batch, wanted)]


KEPT_LINES: Topic[str] = Topic("test-kept", kept_lines, per_tenant=True, kept=True)


async def kept_round_trip(listener: Hub, speaker: Hub) -> None:
    """Three kept messages reach the listener live and can be read again after its head."""
    tenant = str(uuid.uuid4())
    channel = KEPT_LINES.channel(tenant)
    async with listener.subscription(KEPT_LINES, "k", tenant_id=tenant) as subscription:
        head = await listener.kept_head(KEPT_LINES, tenant_id=tenant)
        await speaker.publish_many([], kept=[(channel, f"k={i}\nother=x") for i in range(3)])
        live = [await received(subscription) for _ in range(3)]

        again = await listener.kept_since(KEPT_LINES, "k", head.position, tenant_id=tenant)
        after_first = await listener.kept_since(
            KEPT_LINES, "k", str(live[0]).split("@")[1], tenant_id=tenant
        )

    assert [str(m).split("@")[0] for m in live] == ["0", "1", "2"]
    assert again == live
    assert after_first == live[1:]


async def test_memory_keeps_what_it_publishes() -> None:
    hub = Hub("memory://")
    await hub.connect()
    try:
        await kept_round_trip(hub, hub)
    finally:
        await hub.disconnect()


async def test_redis_keeps_what_it_publishes_for_another_hub(redis_url: str) -> None:
    listener, speaker = Hub(redis_url), Hub(redis_url)
    await listener.connect()
    await speaker.connect()
    try:
        await kept_round_trip(listener, speaker)
    finally:
        await listener.disconnect()
        await speaker.disconnect()


async def test_a_position_older_than_the_window_cannot_be_replayed(redis_url: str) -> None:
    hub = Hub(redis_url, keep_seconds=60)
    await hub.connect()
    try:
        tenant = str(uuid.uuid4())
        head = await hub.kept_head(KEPT_LINES, tenant_id=tenant)
        ms = int(head.position.split("-")[0])

        recent = await hub.kept_since(KEPT_LINES, "k", f"{ms - 30_000}-0", tenant_id=tenant)
        too_old = await hub.kept_since(KEPT_LINES, "k", f"{ms - 90_000}-0", tenant_id=tenant)
    finally:
        await hub.disconnect()

    assert (recent, too_old) == ([], None)


async def test_a_redis_that_lost_what_it_kept_has_a_new_epoch(own_redis: RedisServer) -> None:
    hub = Hub(own_redis.url)
    await hub.connect()
    try:
        tenant = str(uuid.uuid4())
        before = await hub.kept_head(KEPT_LINES, tenant_id=tenant)
        own_redis.stop()
        own_redis.start()  # without persistence: what it kept is gone
        for _ in range(50):  # the hub's own connections come back
            try:
                after = await hub.kept_head(KEPT_LINES, tenant_id=tenant)
                break
            except RedisConnectionError:
                await asyncio.sleep(0.1)
    finally:
        await hub.disconnect()

    assert before.epoch != after.epoch


async def test_a_channel_whose_kept_messages_failed_gets_a_new_epoch(redis_url: str) -> None:
    # given a kept channel, and a subscriber's position in it
    tenant = str(uuid.uuid4())
    channel = KEPT_LINES.channel(tenant)
    hub = Hub(redis_url)
    await hub.connect()
    stream = replay.stream_key(channel)
    raw = redis.Redis.from_url(redis_url)
    try:
        before = await hub.kept_head(KEPT_LINES, tenant_id=tenant)

        # when a publish fails to keep its message (here: the stream's key holds a string)
        await raw.set(stream, "not a stream")
        with pytest.raises(RedisError):
            await hub.publish_many([], kept=[(channel, "k=lost")])
        await raw.delete(stream)
        await hub.publish_many([], kept=[(channel, "k=after")])

        # then positions from before it cannot be resumed from
        after = await hub.kept_head(KEPT_LINES, tenant_id=tenant)
    finally:
        await raw.aclose()
        await hub.disconnect()

    assert before.epoch != after.epoch


async def test_a_first_subscriber_that_leaves_while_subscribing_strands_no_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a backend slow to confirm a subscription (as Redis may be)
    hub = Hub("memory://")
    await hub.connect()
    release = asyncio.Event()
    subscribe = hub._backend.subscribe

    async def slow_subscribe(channel: str) -> None:
        await release.wait()
        await subscribe(channel)

    monkeypatch.setattr(hub._backend, "subscribe", slow_subscribe)
    tenant = str(uuid.uuid4())

    async def first() -> None:
        async with hub.subscription(LINES, "k", tenant_id=tenant):
            await asyncio.Event().wait()

    async def second() -> str:
        async with hub.subscription(LINES, "k", tenant_id=tenant) as mailbox:
            await hub.publish_many([(LINES.channel(tenant), "k=hello")])
            return str(await received(mailbox))

    try:
        # when the first subscriber leaves while the subscription is being made, and a
        # second one joined meanwhile
        leaving = asyncio.create_task(first())
        await asyncio.sleep(0.01)
        staying = asyncio.create_task(second())
        await asyncio.sleep(0.01)
        leaving.cancel()
        await asyncio.gather(leaving, return_exceptions=True)
        release.set()

        # then the second one gets its messages
        assert await asyncio.wait_for(staying, timeout=5) == "hello"
    finally:
        await hub.disconnect()
