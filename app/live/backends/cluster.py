"""Redis Cluster sharded pub/sub (SPUBLISH / SSUBSCRIBE, Redis 7), for deployments past one
Redis: each channel lives on the shard that owns its slot, so tenants' channels spread across
the primaries and no message is copied to every node.

`BELFRY_BROADCAST_URL=redis+cluster://HOST:PORT,HOST:PORT/`: any nodes of the cluster (the
others are found from them). As with one Redis, the subscriber side is rebuilt, with every
channel, whenever a connection breaks (a node restarted or failed over), and every subscriber
then resyncs, since whatever was published meanwhile is gone."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlparse

from redis.asyncio.cluster import ClusterNode, ClusterPubSub, RedisCluster
from redis.exceptions import RedisError

from app.live.backends import UNREACHABLE, replay
from app.live.backends.reconnecting import ReconnectingBackend

SCHEME = "redis+cluster"


def cluster_nodes(url: str) -> list[ClusterNode]:
    """The nodes a `redis+cluster://h1:p1,h2:p2/` URL names."""
    netloc = urlparse(url).netloc.rsplit("@", 1)[-1]
    nodes = []
    for address in filter(None, netloc.split(",")):
        host, _, port = address.rpartition(":")
        nodes.append(ClusterNode(host or address, int(port) if host else 6379))
    if not nodes:
        raise ValueError(f"{SCHEME}:// names no node: give HOST:PORT,HOST:PORT")
    return nodes


def cluster_client(
    url: str, *, socket_connect_timeout: float, socket_timeout: float
) -> RedisCluster:
    """A client of the cluster, signed in as the URL says (`redis+cluster://:PASSWORD@...`)."""
    userinfo, _, _ = urlparse(url).netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    return RedisCluster(
        startup_nodes=cluster_nodes(url),
        username=unquote(username) or None,
        password=unquote(password) or None,
        socket_connect_timeout=socket_connect_timeout,
        socket_timeout=socket_timeout,
    )


class RedisClusterBackend(ReconnectingBackend):
    SUBSCRIBE = "ssubscribe"
    UNSUBSCRIBE = "sunsubscribe"
    ERRORS = UNREACHABLE

    def __init__(self, url: str, *, on_reconnect: Callable[[], None]) -> None:
        super().__init__("Redis Cluster", on_reconnect=on_reconnect)
        self._url = url
        self._publisher = cluster_client(url, socket_connect_timeout=2, socket_timeout=5)
        self._subscribed = asyncio.Event()  # a channel was added: readers for new nodes

    async def disconnect(self) -> None:
        await super().disconnect()
        await self._publisher.aclose()

    async def subscribe(self, channel: str) -> None:
        await super().subscribe(channel)
        self._subscribed.set()

    async def publish_many(
        self,
        messages: Sequence[tuple[str, str]],
        *,
        kept: Sequence[tuple[str, str]] = (),
        keep_seconds: float = 0,
    ) -> None:
        """One at a time, in order: each goes to the node of its own slot."""
        for channel, message, is_kept in replay.outgoing(messages, kept):
            if is_kept:
                await self._publisher.eval(
                    *replay.keeping(channel, message, keep_seconds, "spublish")
                )
            else:
                await self._publisher.spublish(channel, message)

    async def forget_kept(self, channels: Sequence[str]) -> None:
        for channel in channels:  # each in its own slot
            await self._publisher.delete(replay.epoch_key(channel))

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[ClusterPubSub]:
        client = cluster_client(self._url, socket_connect_timeout=2, socket_timeout=5)
        pubsub = client.pubsub()
        try:
            await client.initialize()
            if self._channels:
                await pubsub.ssubscribe(*self._channels)
            yield pubsub
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _read(self, pubsub: ClusterPubSub) -> None:
        """One reader per node holding our channels, added as channels land on new nodes;
        returns (raising) when any of them fails, and the caller rebuilds everything."""
        readers: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                self._subscribed.clear()
                for name, node in list(pubsub.node_pubsub_mapping.items()):
                    # A node's connection is made by its first SSUBSCRIBE.
                    if name not in readers and node.connection is not None:
                        readers[name] = asyncio.create_task(self._read_node(node))
                added = asyncio.ensure_future(self._subscribed.wait())
                done, _ = await asyncio.wait(
                    [added, *readers.values()], return_when=asyncio.FIRST_COMPLETED
                )
                added.cancel()
                for task in done - {added}:
                    # A reader ends only by failing, whatever redis-py raised: rebuild.
                    error = task.exception() if not task.cancelled() else None
                    raise RedisError(f"a node's pub/sub connection ended ({error!r})") from error
        finally:
            for task in readers.values():
                task.cancel()
            await asyncio.gather(*readers.values(), return_exceptions=True)

    async def _read_node(self, node_pubsub: Any) -> None:
        while True:
            self._received(await node_pubsub.get_message(timeout=None), "smessage")
