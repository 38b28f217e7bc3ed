"""Live events through a real Redis Cluster (sharded pub/sub): between hubs and between
Belfry replicas connected to different nodes, and through a primary's failover."""

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from app.http.ratelimit import RedisCounter
from app.live.backends.cluster import cluster_nodes
from app.live.hub import Hub
from app.live.mailbox import Mailbox
from app.live.messages import Signal
from tests.conftest import free_port, unavailable
from tests.helpers import Api, TenantAccess, make_user, publish
from tests.live.test_hub import LINES, kept_round_trip
from tests.processes import created_tenant, replica_database, serve_process
from tests.redis_cluster import RedisCluster
from tests.wsclient import GraphQLSocket


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    nodes = RedisCluster(tmp_path_factory.mktemp("cluster"))
    try:
        nodes.start()
    except (FileNotFoundError, RuntimeError) as error:
        nodes.stop()
        unavailable("Redis Cluster", error)
    yield nodes
    nodes.stop()


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[Hub]:
    hub = Hub(url, queue_limit=1000)
    await hub.connect()
    try:
        yield hub
    finally:
        await hub.disconnect()


async def received(mailbox: Mailbox[str], timeout: float = 10) -> object:
    return await asyncio.wait_for(mailbox.get(), timeout)


def test_a_cluster_url_names_its_nodes() -> None:
    nodes = cluster_nodes("redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001,redis-3/")

    assert [(n.host, n.port) for n in nodes] == [
        ("10.0.0.1", 7000),
        ("10.0.0.2", 7001),
        ("redis-3", 6379),
    ]
    with pytest.raises(ValueError, match="names no node"):
        cluster_nodes("redis+cluster:///")


def test_a_node_whose_port_was_taken_meanwhile_starts_on_another(tmp_path: Path) -> None:
    # given a node's port picked as free, then bound by someone else before the node starts
    nodes = RedisCluster(tmp_path)
    taken = nodes.ports[0]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        # when the cluster starts
        try:
            nodes.start()
        except FileNotFoundError as error:
            unavailable("Redis Cluster", error)
        try:
            # then that node runs on a port of its own, and the cluster is whole
            assert taken not in nodes.ports
            assert nodes.live_ports() == nodes.ports
            assert nodes.healthy()
        finally:
            nodes.stop()


async def test_hubs_on_different_nodes_carry_every_tenants_events(cluster: RedisCluster) -> None:
    # given a listener and a speaker connected through different nodes, and tenants whose
    # channels spread across the shards
    tenants = [str(uuid.uuid4()) for _ in range(12)]
    assert len({cluster.primary_for(LINES.channel(t)) for t in tenants}) >= 2
    async with (
        connected(cluster.url_of(cluster.ports[0])) as listener,
        connected(cluster.url_of(cluster.ports[1])) as speaker,
        contextlib.AsyncExitStack() as stack,
    ):
        mailboxes = [
            await stack.enter_async_context(listener.subscription(LINES, "k", tenant_id=t))
            for t in tenants
        ]

        # when the speaker publishes to each tenant
        await speaker.publish_many([(LINES.channel(t), f"k={t}") for t in tenants])

        # then each tenant's subscriber hears its own event, and only it
        assert [await received(m) for m in mailboxes] == tenants
        assert all(m.pending() == 0 for m in mailboxes)


async def test_messages_are_kept_in_the_slot_of_their_channel(cluster: RedisCluster) -> None:
    async with (
        connected(cluster.url_of(cluster.ports[0])) as listener,
        connected(cluster.url_of(cluster.ports[1])) as speaker,
    ):
        for _ in range(3):  # tenants on different shards, in all likelihood
            await kept_round_trip(listener, speaker)


@pytest.fixture
def replicas(
    cluster: RedisCluster, postgres_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, TenantAccess]]:
    """Two API processes on one PostgreSQL database, each told of a different node of the
    cluster, and a tenant. (postgres_database is asked for only to skip, or fail in CI,
    without PostgreSQL.)"""
    logs = tmp_path_factory.mktemp("cluster-replicas")
    one, another = cluster.live_ports()[:2]
    with replica_database(cluster.url_of(one)) as env:
        other = {**env, "BELFRY_BROADCAST_URL": cluster.url_of(another)}
        tenant = created_tenant(env)
        with (
            serve_process(env, free_port(), logs / "first.log") as first,
            serve_process(other, free_port(), logs / "second.log") as second,
        ):
            yield first, second, tenant


async def test_two_belfry_replicas_on_different_nodes_share_live_events(
    replicas: tuple[str, str, TenantAccess],
) -> None:
    # given a socket on the first replica
    first, second, tenant = replicas
    async with httpx.AsyncClient(base_url=second) as client:
        api = Api(client)
        alice = await make_user(api, tenant)
        socket = await GraphQLSocket.open(first.replace("http", "ws") + "/graphql", alice.token)
        await socket.acknowledged()
        op = await socket.subscribe("subscription { unreadCount }")
        assert (await socket.next(op))["unreadCount"] == 0

        # when a notification is published through the second
        await publish(api, tenant, [alice.external_id])

        # then the socket on the first sees the badge move
        assert (await socket.next(op))["unreadCount"] == 1
        await socket.close()


async def test_rate_limit_counts_are_shared_through_the_cluster(cluster: RedisCluster) -> None:
    one, another = cluster.live_ports()[:2]
    first, second = RedisCounter(cluster.url_of(one)), RedisCounter(cluster.url_of(another))
    bucket = ("address", f"198.51.100.{uuid.uuid4().int % 250}", str(uuid.uuid4()))
    try:
        counts = [await first.hit(bucket, window=1, ttl=60), await second.hit(bucket, 1, 60)]
    finally:
        await first.aclose()
        await second.aclose()

    assert counts == [1, 2]


async def test_after_a_primary_fails_over_subscribers_resync_and_hear_again(
    cluster: RedisCluster,
) -> None:
    # given a subscriber whose channel lives on one primary (last in this module: it leaves
    # the cluster with a primary fewer)
    tenant = str(uuid.uuid4())
    channel = LINES.channel(tenant)
    async with (
        connected(cluster.url) as listener,
        connected(cluster.url) as speaker,
        listener.subscription(LINES, "k", tenant_id=tenant) as mailbox,
    ):
        await speaker.publish_many([(channel, "k=before")])
        assert await received(mailbox) == "before"

        # when that primary dies and its replica takes over
        cluster.kill(cluster.primary_for(channel))

        # then the subscriber is told to resync, and hears what is published afterwards
        assert await received(mailbox, timeout=30) is Signal.RESYNC
        for _ in range(100):  # the speaker's own view of the cluster catches up too
            with contextlib.suppress(Exception):
                await speaker.publish_many([(channel, "k=after")])
                break
            await asyncio.sleep(0.2)
        assert await received(mailbox) == "after"
