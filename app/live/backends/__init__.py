"""Where live batches travel between processes, behind broadcaster's public backend contract
(connect, disconnect, subscribe, unsubscribe, publish, next_published): in one process
(`memory://`), through Redis (`redis://`) or through a Redis Cluster (`redis+cluster://`)."""

from collections.abc import Callable, Sequence
from urllib.parse import urlparse

from broadcaster import BroadcastBackend


class Backend(BroadcastBackend):
    """broadcaster's contract, and publish_many, which a backend may do in one round trip."""

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        for channel, message in messages:
            await self.publish(channel, message)


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
