"""bench.floor at a tiny size: every kind of request is made and measured beside raw's
publish. PostgreSQL and Redis are required (they skip without, or fail with CI set)."""

from bench.floor import measure


async def test_every_request_kind_reports_its_server_cpu(
    postgres_database: str, redis_url: str
) -> None:
    # When ten requests of each kind run once (each publish is awaited on its socket)
    figures = await measure(postgres_database, requests=10, runs=1)

    # Then every kind is reported beside raw's publish
    kinds = figures["cpu_ms_per_request"]
    assert list(kinds) == ["raw publish", "belfry health", "belfry typename", "belfry publish"]
    assert all(kind["ms"] >= 0 for kind in kinds.values())  # clock ticks: 0 when tiny
