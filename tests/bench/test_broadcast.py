"""bench.broadcast at a tiny size: every socket of every system gets every round's frame, and
every figure is there and positive. PostgreSQL and Redis are required (they skip without, or
fail with CI set)."""

from bench.broadcast import measure
from bench.servers import systems

USERS = 20
ROUNDS = 2


async def test_every_socket_gets_every_frame_and_every_figure_is_reported(
    postgres_database: str, redis_url: str
) -> None:
    # Given a migrated PostgreSQL database and Redis, and the systems to compare
    names = list(systems())

    # When the benchmark runs with 20 users per system over 2 client processes, for 2 rounds
    figures = await measure(postgres_database, [USERS], ROUNDS, per_child=USERS // 2)

    # Then each system's sockets got every counted round's frame (a socket with a wrong or
    # missing frame fails the run), from two client processes
    at_size = figures[str(USERS)]
    assert (at_size["users"], at_size["rounds"]) == (USERS, ROUNDS)
    assert {"raw", "belfry"} <= set(names)
    for name in names:
        assert at_size[name]["frames"] == USERS * ROUNDS, name
        assert at_size[name]["client_processes"] == 2, name
        # and its times and CPU are sane: a frame comes after its publish began
        assert 0 < at_size[name]["p50_ms"] <= at_size[name]["p99_ms"], name
        assert at_size[name]["p50_ms"] <= at_size[name]["last_frame_p50_ms"], name
        assert at_size[name]["server_cpu_ms_per_round"] >= 0, name
    # and every other system has its ratio to raw
    assert set(at_size["ratio_to_raw"]) == set(names) - {"raw"}
    for ratio in at_size["ratio_to_raw"].values():
        assert ratio["last_frame_p50_ms"] > 0
