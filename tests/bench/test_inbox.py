"""bench.inbox at a tiny size: it loads the table it says and reports every figure."""

from tortoise.backends.base.executor import EXECUTOR_CACHE

from bench.inbox import SMALL_UNREAD, measure

TIMINGS = [
    "system_first_page",
    "system_deep_page",
    "raw_first_page",
    "raw_deep_page",
    "system_unread_big",
    "system_unread_small",
    "raw_unread_count_big",
    "raw_unread_count_small",
    "system_unseen_big",
    "system_unseen_small",
    "raw_unseen_count_big",
    "raw_unseen_count_small",
]
RATIOS = [
    "system_deep_over_first_p50",
    "raw_deep_over_first_p50",
    "system_unread_big_over_small_p50",
    "raw_unread_count_big_over_small_p50",
    "system_unseen_big_over_small_p50",
    "raw_unseen_count_big_over_small_p50",
]


async def test_the_inbox_bench_reports_every_figure_for_the_table_it_loaded(
    postgres_database: str,
) -> None:
    # given a migrated PostgreSQL database
    EXECUTOR_CACHE.clear()  # this process's other tests may have used SQLite

    # when the bench runs at a tiny size
    figures = await measure(
        postgres_database, total=3000, big=1000, depth=500, runs=10, gc_tuning=False
    )

    # then it loaded the rows asked for (each page and count was checked as it was timed)
    assert figures["rows"] == 3000
    assert (figures["big_inbox"], figures["small_unread"]) == (1000, SMALL_UNREAD)
    assert (figures["depth"], figures["runs"]) == (500, 10)
    # and every latency and ratio is a positive number, p99 no lower than p50
    for name in TIMINGS:
        assert 0 < figures[name]["p50_ms"] <= figures[name]["p99_ms"], name
    for name in RATIOS:
        assert figures[name] > 0, name
