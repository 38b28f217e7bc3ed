"""The socket.io + Redis peer of the live benchmarks (bench/socketio/): a notification published
to one user reaches that user's socket, through the Redis emitter and adapter, and no one
else's. It needs Node and the peer's packages (`npm ci --prefix bench/socketio`), PostgreSQL and
Redis; without one of them it skips, saying why, and with CI set it fails."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bench.servers import Server
from bench.socketio_peer import NotInstalled, require_installed, socketio
from tests.conftest import POSTGRES_URL, unavailable, with_database

ADMIN_DSN = POSTGRES_URL.replace("postgres://", "postgresql://", 1)


@pytest.fixture
async def scratch_database() -> AsyncIterator[str]:
    """An empty database of the test's own: the peer creates the one table it writes."""
    name = f"belfry_test_sio_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        unavailable("PostgreSQL", error)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(ADMIN_DSN, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def peer(scratch_database: str, redis_url: str) -> AsyncIterator[Server]:
    try:
        require_installed()
    except NotInstalled as error:
        unavailable("the socket.io peer", error)
    async with socketio(scratch_database, redis_url) as server:
        yield server


async def test_a_notification_reaches_its_users_socket_and_no_other(
    peer: Server, scratch_database: str
) -> None:
    # Given two users' sockets (names no concurrent run shares: channels span the whole Redis)
    alice, bob = f"alice-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    alice_socket = await peer.dialer.connect(alice)
    bob_socket = await peer.dialer.connect(bob)
    try:
        # When a notification is published to Alice, then another to Bob
        await peer.publish([alice], "for alice")
        await peer.publish([bob], "for bob")

        # Then Alice's socket gets hers, and the first thing on Bob's is his own: both went
        # through one Redis connection, in order, so Alice's would have come first
        assert await asyncio.wait_for(peer.dialer.next_title(alice_socket), 5) == "for alice"
        assert await asyncio.wait_for(peer.dialer.next_title(bob_socket), 5) == "for bob"

        # And each is stored, one row per recipient
        conn = await asyncpg.connect(scratch_database)
        try:
            rows = await conn.fetch("SELECT recipient, title FROM sio_notifications ORDER BY title")
        finally:
            await conn.close()
        assert [tuple(row) for row in rows] == [(alice, "for alice"), (bob, "for bob")]
    finally:
        await alice_socket.close()
        await bob_socket.close()
