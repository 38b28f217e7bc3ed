"""The counters behind the rate limits, and whom a request is counted for."""

import uuid

import pytest
from redis import asyncio as redis

from app.auth import ApiKeyPrincipal
from app.errors import RateLimited
from app.http.ratelimit import KEY_PREFIX, MemoryCounter, RateLimiter, RedisCounter, client_network
from app.settings import Settings


async def test_the_in_process_counter_drops_a_window_once_the_next_begins() -> None:
    counter = MemoryCounter()
    for i in range(1000):
        await counter.hit(("address", f"198.51.100.{i}"), window=7, ttl=60)
    assert len(counter) == 1000

    assert await counter.hit(("address", "198.51.100.1"), window=8, ttl=60) == 1

    assert len(counter) == 1


async def test_the_in_process_counter_holds_at_most_its_bound_and_lets_the_rest_through() -> None:
    counter = MemoryCounter(max_buckets=10)
    counts = [
        await counter.hit(("address", f"198.51.100.{i}"), window=1, ttl=60) for i in range(20)
    ]

    assert len(counter) == 10
    assert counts[:10] == [1] * 10 and counts[10:] == [None] * 10
    assert await counter.hit(("address", "198.51.100.3"), window=1, ttl=60) == 2


async def test_a_limiter_lets_callers_past_its_bound_through() -> None:
    settings = Settings(rate_limit_api_key=1)
    limiter = RateLimiter(settings, MemoryCounter(max_buckets=1))
    await limiter.check(ApiKeyPrincipal(tenant_id=uuid.uuid4(), key_id=uuid.uuid4()), None)

    for _ in range(3):  # not counted, so never refused
        await limiter.check(ApiKeyPrincipal(tenant_id=uuid.uuid4(), key_id=uuid.uuid4()), None)


async def test_redis_counts_are_shared_and_expire(redis_url: str) -> None:
    first, second = RedisCounter(redis_url), RedisCounter(redis_url)
    bucket = ("key", uuid.uuid4())
    try:
        assert await first.hit(bucket, window=5, ttl=30) == 1
        assert await second.hit(bucket, window=5, ttl=30) == 2
        assert await first.hit(bucket, window=6, ttl=30) == 1  # a new window counts anew
        async with redis.Redis.from_url(redis_url) as client:  # Redis expires it by then
            assert 0 < await client.pttl(f"{KEY_PREFIX}:key:{bucket[1]}:5") <= 30_000
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_limiter_over_the_limit_raises_with_the_time_left_in_the_window() -> None:
    limiter = RateLimiter(Settings(rate_limit_api_key=1, rate_limit_window_seconds=30))
    key = ApiKeyPrincipal(tenant_id=uuid.uuid4(), key_id=uuid.uuid4())
    await limiter.check(key, None)

    with pytest.raises(RateLimited) as refused:
        await limiter.check(key, None)

    assert 1 <= refused.value.retry_after <= 30
    assert refused.value.extensions == {
        "code": "RATE_LIMITED",
        "retryAfterSeconds": refused.value.retry_after,
    }


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        (None, "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_a_client_is_counted_by_its_address_or_its_ipv6_64(
    address: str | None, counted_as: str
) -> None:
    assert client_network(address) == counted_as


def test_an_unknown_rate_limit_url_is_refused() -> None:
    with pytest.raises(ValueError, match="memcached://"):
        RateLimiter(Settings(rate_limit_url="memcached://127.0.0.1"))
