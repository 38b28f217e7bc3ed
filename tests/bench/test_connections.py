"""bench.connections at a tiny size: each system's memory per socket is read before and after
its sockets connect, and the ratios to raw are there. PostgreSQL and Redis are required (they
skip without, or fail with CI set)."""

from bench.connections import measure
from bench.servers import systems

SOCKETS = 20


async def test_memory_per_socket_is_reported_for_every_system_with_its_ratio_to_raw(
    postgres_database: str, redis_url: str
) -> None:
    # Given a migrated PostgreSQL database and Redis, and the systems to compare
    names = list(systems())

    # When the benchmark connects 20 sockets per system from 2 client processes
    figures = await measure(postgres_database, [SOCKETS], settle=0.2, per_child=SOCKETS // 2)

    # Then every system's server was measured before and after (every socket connected and
    # subscribed, or the run would have failed)
    at_size = figures[str(SOCKETS)]
    assert at_size["sockets"] == SOCKETS
    for name in names:
        measured = at_size[name]
        assert measured["rss_before_kib"] > 0, name
        assert measured["rss_after_kib"] > 0, name
        # and the figure per socket is what those readings give (20 sockets move RSS too
        # little to assert it grew: pages freed elsewhere may offset them)
        per_socket = (measured["rss_after_kib"] - measured["rss_before_kib"]) / SOCKETS
        assert measured["kib_per_socket"] == round(per_socket, 2), name
    # and every other system has its ratio to raw
    assert set(at_size["ratio_to_raw"]) == set(names) - {"raw"}
