"""The hub over each backend: fan-out to keyed mailboxes, Redis between processes, and a
Redis that restarts or is down at first."""

import asyncio
import uuid
from collections.abc import Container

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

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
