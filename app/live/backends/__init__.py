"""Where live batches travel between processes, behind broadcaster's public backend contract
(connect, disconnect, subscribe, unsubscribe, publish, next_published): in one process
(`memory://`), through Redis (`redis://`) or through a Redis Cluster (`redis+cluster://`).

Some channels' messages are also kept for a while, for subscribers that come back after a
gap (app.live.streams): each such message gets an id, increasing per channel, that travels
with it as "ID MESSAGE", and the ones after an id can be read again (kept_since)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from broadcaster import BroadcastBackend
from redis.exceptions import RedisClusterException, RedisError

# What a backend out of reach raises, from Redis or a Redis Cluster.
UNREACHABLE = (RedisError, RedisClusterException, OSError)
REPLAY_LIMIT = 10_000  # kept messages one read returns at most; more is a reset
NOTHING_YET = 2**64 - 1  # the sequence number of a position before any id in the next ms


@dataclass(frozen=True, slots=True)
class Head:
    """Where a kept channel stands: its store's epoch, which changes when the store loses
    what it kept (a restart), and a position no later than any message still to come."""

    epoch: str
    position: str


def id_key(kept_id: str) -> tuple[int, int]:
    """An id ("MS-SEQ", as Redis streams write them) as a sortable pair."""
    ms, _, seq = kept_id.partition("-")
    return int(ms), int(seq or 0)


def replayable(
    after: str, found: list[tuple[str, str]], now_ms: int, keep_seconds: float
) -> list[tuple[str, str]] | None:
    """`found`, the kept messages after the position `after`, or None where they may not be
    all of them: `after` is older than what is kept, or there are too many to give."""
    if id_key(after)[0] < now_ms - int(keep_seconds * 1000) or len(found) > REPLAY_LIMIT:
        return None
    return found


def position_before(ms: int) -> str:
    """A position before every id from `ms` on, and after every id before it."""
    return f"{ms - 1}-{NOTHING_YET}"


class Backend(BroadcastBackend):
    """broadcaster's contract; publish_many, which a backend may do in one round trip; and
    the kept messages."""

    async def publish_many(
        self,
        messages: Sequence[tuple[str, str]],
        *,
        kept: Sequence[tuple[str, str]] = (),
        keep_seconds: float = 0,
    ) -> None:
        """`kept` first, each kept `keep_seconds` and published with its id, then `messages`."""
        raise NotImplementedError

    async def publish(self, channel: str, message: str) -> None:
        await self.publish_many([(channel, message)])

    async def kept_since(
        self, channel: str, after: str, keep_seconds: float
    ) -> list[tuple[str, str]] | None:
        """The channel's kept (id, message) after the position `after`, oldest first; None
        when they cannot all be given (`after` is older than `keep_seconds`, or too many)."""
        raise NotImplementedError

    async def kept_head(self, channel: str) -> Head:
        raise NotImplementedError

    async def forget_kept(self, channels: Sequence[str]) -> None:
        """Gives the channels a new epoch: messages were published but not kept, so no
        position from before may be replayed (it would skip them)."""
        raise NotImplementedError


def backend_for(url: str, *, on_reconnect: Callable[[], None]) -> Backend:
    """The backend a broadcast URL names. `on_reconnect` is called whenever messages may have
    been lost (a Redis connection that came back)."""
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        from app.live.backends.redis import RedisBackend

        return RedisBackend(url, on_reconnect=on_reconnect)
    if scheme == "redis+cluster":
        from app.live.backends.cluster import RedisClusterBackend

        return RedisClusterBackend(url, on_reconnect=on_reconnect)
    if scheme == "memory":
        from app.live.backends.memory import MemoryBackend

        return MemoryBackend()
    raise ValueError(
        f"Unsupported broadcast URL {scheme}://: use memory://, redis:// or redis+cluster://"
    )
