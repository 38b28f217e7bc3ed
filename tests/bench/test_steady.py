"""bench.steady at a tiny size: every system gets every publish of the stream on the right
socket, and reports its latencies and memory. PostgreSQL and Redis are required (they skip
without, or fail with CI set)."""

from bench.servers import systems
from bench.steady import measure


async def test_every_system_reports_the_stream_it_carried(
    postgres_database: str, redis_url: str
) -> None:
    # Given a migrated PostgreSQL database and Redis, and the systems to compare
    names = list(systems())

    # When the stream runs at 20 publishes a second for half a second to 10 subscribers each
    figures = await measure(postgres_database, subscribers=10, rate=20, seconds=0.5, runs=1)

    # Then every system carried it (a frame on the wrong socket or a missing one fails the run)
    assert list(figures["systems"]) == names
    for name in names:
        system = figures["systems"][name]
        # and its latencies are ordered and positive, with its memory and ratio to raw
        assert 0 < system["p50_ms"] <= system["p99_ms"], name
        assert system["kib_per_socket"] != 0, name
        assert system["p99_over_raw"] > 0, name
        assert system["server_cpu_ms_per_publish"] >= 0, name  # clock ticks: 0 when tiny
    assert figures["systems"]["raw"]["p99_over_raw"] == 1.0
