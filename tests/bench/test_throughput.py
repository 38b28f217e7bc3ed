"""bench.throughput at a tiny size: every side writes the rows it says and reports a rate."""

from tortoise.backends.base.executor import EXECUTOR_CACHE

from bench.throughput import SHAPES, SIDES, measure


async def test_the_throughput_bench_reports_a_rate_for_every_side_and_shape(
    postgres_database: str,
) -> None:
    # given a migrated PostgreSQL database
    EXECUTOR_CACHE.clear()  # this process's other tests may have used SQLite

    # when the bench runs at a tiny size: 20 single calls and 2 calls of 50 recipients
    figures = await measure(
        postgres_database, single_calls=20, bulk_calls=2, batch=50, rounds=2, gc_tuning=False
    )

    # then each side wrote the warm-up (every user once) and the timed calls
    users = figures["users"]
    assert users == 2 * 50  # at least two batches: a bulk call meets other users than the last
    expected = users + 20 + 2 * 50
    team_publishes = users + 2 * 50  # the team side's warm-up and bulk calls
    assert figures["notifications_written"] == expected + team_publishes
    # one in-app delivery per notification
    assert figures["deliveries_written"] == expected + team_publishes
    assert figures["raw_copy_rows"] == expected
    assert figures["raw_tables_rows"] == expected
    # and every rate and ratio is a positive number
    for side in SIDES:
        for shape in SHAPES:
            assert figures[f"{side}_{shape}_per_second"] > 0
    assert figures["system_team_bulk_per_second"] > 0
    assert figures["bulk_system_team_over_system"] > 0
    for shape in SHAPES:
        assert figures[f"{shape}_system_over_raw_copy"] > 0
        assert figures[f"{shape}_raw_tables_over_raw_copy"] > 0
        assert figures[f"{shape}_system_over_raw_tables"] > 0
