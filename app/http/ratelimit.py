"""Request rate limits: how many requests each caller may make in a window.

A caller is an API key, a user (tenant and user id), or, for a request without valid
credentials, the client's address; an IPv6 client counts by its /64, which one host usually
holds whole. Windows are fixed and aligned on the clock, so every replica counts a request in
the same window. Counts live in this process (`memory://`) or in Redis (`redis://`), shared by
every replica. An unreachable Redis never refuses a request: the check lets it through, says so
in the log once, and tries Redis again a moment later."""

import ipaddress
import logging
import math
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlparse

from redis import asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

from app import clock
from app.auth import ApiKeyPrincipal, Principal, UserPrincipal
from app.errors import RateLimited
from app.live.backends.cluster import SCHEME as CLUSTER
from app.live.backends.cluster import cluster_client
from app.settings import Settings

logger = logging.getLogger("belfry.ratelimit")

Bucket = tuple[object, ...]  # whose requests are counted together: ("key", key id), ...

KEY_PREFIX = "belfry:ratelimit"
EXPIRY_SLACK = 5.0  # seconds a Redis count outlives its window, for replicas' clock skew
MAX_BUCKETS = 100_000  # callers one process counts in a window: 15-30 MiB, measured


class Counter(Protocol):
    async def hit(self, bucket: Bucket, window: int, ttl: float) -> int | None:
        """Counts one request of `bucket` in `window` (kept `ttl` seconds): the count so far,
        or None when it cannot be counted."""
        ...

    async def aclose(self) -> None: ...


class MemoryCounter:
    """This process's counts of the current window only: a new window drops the last one's
    whole, so memory holds the callers of one window, and at most `max_buckets` of them."""

    def __init__(self, max_buckets: int = MAX_BUCKETS) -> None:
        self.max_buckets = max_buckets
        self._window = -1
        self._counts: dict[Bucket, int] = {}
        self._full_in: int | None = None

    def __len__(self) -> int:
        return len(self._counts)

    async def hit(self, bucket: Bucket, window: int, ttl: float) -> int | None:
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts.get(bucket, 0) + 1
        if count == 1 and len(self._counts) >= self.max_buckets:
            if self._full_in != window:
                self._full_in = window
                logger.warning(
                    "%d callers counted in this window; new ones go uncounted until the next",
                    self.max_buckets,
                )
            return None
        self._counts[bucket] = count
        return count

    async def aclose(self) -> None:
        self._counts = {}


# INCR and PEXPIRE in one script: one round trip, and no count is ever left without an expiry.
# (Measured against a MULTI pipeline of the same two commands, a third less time per check.)
COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return count
"""


class RedisCounter:
    """Counts shared by every replica; redis-py loads the script again after a Redis restart."""

    PAUSE = timedelta(seconds=2)  # not trying Redis after it failed: a dead one costs no wait

    def __init__(self, url: str) -> None:
        self._client: redis.Redis | RedisCluster = (
            cluster_client(url, socket_connect_timeout=0.5, socket_timeout=0.5)
            if urlparse(url).scheme == CLUSTER
            else redis.Redis.from_url(
                url,
                socket_connect_timeout=0.5,
                socket_timeout=0.5,
                retry=Retry(NoBackoff(), 1),  # once, for a pooled connection Redis has dropped
            )
        )
        self._count = self._client.register_script(COUNT_SCRIPT)
        parsed = urlparse(url)
        # Named in the log without its password.
        self._safe_url = f"{parsed.scheme}://{parsed.netloc.rsplit('@', 1)[-1]}"
        self._paused_until: datetime | None = None  # app.clock time
        self._failing = False

    async def hit(self, bucket: Bucket, window: int, ttl: float) -> int | None:
        if self._paused_until is not None and clock.now() < self._paused_until:
            return None
        name = ":".join([KEY_PREFIX, *map(str, bucket), str(window)])
        try:
            count = await self._count(keys=[name], args=[math.ceil(ttl * 1000)])
        except (RedisError, RedisClusterException, OSError) as error:
            self._paused_until = clock.now() + self.PAUSE
            if not self._failing:
                self._failing = True
                logger.warning(
                    "Redis %s cannot count requests (%s: %s); rate limits are off until it is back",
                    self._safe_url,
                    error.__class__.__name__,
                    error,
                )
            return None
        if self._failing:
            self._failing, self._paused_until = False, None
            logger.info("Redis %s is back; rate limits apply again", self._safe_url)
        return int(count)

    async def aclose(self) -> None:
        await self._client.aclose()


def counter_for(url: str) -> Counter:
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss", CLUSTER):
        return RedisCounter(url)
    if scheme == "memory":
        return MemoryCounter()
    raise ValueError(
        f"Unsupported rate limit URL {scheme}://: use memory://, redis:// or {CLUSTER}://"
    )


def client_network(address: str | None) -> str:
    """The address a client is counted by: an IPv6 one by its /64."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address


class RateLimiter:
    """Counts each request against its caller's limit; a limit of 0 is off. Used as an async
    context manager for the app's lifetime, which closes the connection to Redis."""

    def __init__(self, settings: Settings, counter: Counter | None = None) -> None:
        self.window = settings.rate_limit_window_seconds
        self.api_key_limit = settings.rate_limit_api_key
        self.user_limit = settings.rate_limit_user
        self.anonymous_limit = settings.rate_limit_anonymous
        self.counter = counter if counter is not None else counter_for(settings.rate_limit_store)

    async def check(self, principal: Principal | None, address: str | None) -> None:
        """Counts one request; raises RateLimited when it is over the caller's limit."""
        bucket: Bucket
        if isinstance(principal, ApiKeyPrincipal):
            limit, bucket, whose = self.api_key_limit, ("key", principal.key_id), "this API key"
        elif isinstance(principal, UserPrincipal):
            limit, whose = self.user_limit, "this user"
            bucket = ("user", principal.tenant_id, principal.user_id)
        else:
            limit, whose = self.anonymous_limit, "requests without valid credentials from here"
            bucket = ("address", client_network(address))
        if not limit:
            return
        now = clock.now().timestamp()
        window = int(now // self.window)
        ends_in = (window + 1) * self.window - now
        count = await self.counter.hit(bucket, window, ends_in + EXPIRY_SLACK)
        if count is not None and count > limit:
            retry_after = max(1, math.ceil(ends_in))
            raise RateLimited(
                f"Rate limit reached for {whose}: {limit} requests per {self.window:g} seconds; "
                f"retry in {retry_after} s",
                retry_after=retry_after,
            )

    async def __aenter__(self) -> "RateLimiter":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.counter.aclose()
