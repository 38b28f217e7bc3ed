"""bench.stalled at a tiny size: Belfry's healthy subscribers get every frame with stalled
subscribers present, the stalled sockets' windows were shut, and every figure is there. No
timing is asserted. PostgreSQL and Redis are required (they skip without, or fail with CI
set)."""

from bench.stalled import measure

HEALTHY = 20
STALLED = 2
RATE = 20  # publishes a second
SECONDS = 1  # of stream per phase


async def test_stalled_subscribers_are_measured_beside_healthy_ones_on_both_systems(
    postgres_database: str, redis_url: str
) -> None:
    # Given a migrated PostgreSQL database and Redis

    # When the benchmark runs with 20 healthy and 2 stalled subscribers per system, a fast
    # flood shutting the stalled windows quickly, and little patience for a stalled system
    figures = await measure(
        postgres_database, HEALTHY, STALLED, RATE, SECONDS, flood_rate=50, patience=1
    )

    # Then Belfry's healthy subscribers got every frame in both phases
    assert (figures["subscribers"], figures["stalled"]) == (HEALTHY, STALLED)
    belfry = figures["systems"]["belfry"]
    for phase in ("without_stalled", "with_stalled"):
        measured = belfry[phase]
        assert measured["frames_arrived"] == measured["frames_expected"] == RATE * SECONDS
        assert measured["stalled_blocks"] == 0
        assert 0 < measured["p50_ms"] <= measured["p99_ms"]
    assert belfry["p99_with_over_without"] > 0
    # and the server could no longer write to either stalled socket: its kernel held unsent
    # bytes for each, unmoving while the flood went on
    stalled_phase = belfry["with_stalled"]
    assert stalled_phase["stalled_sockets_blocked_per_block"] == [STALLED]
    assert stalled_phase["server_unsent_bytes_per_block"][0] > 0
    assert stalled_phase["flood_bytes_to_stalled_users"] > 0
    # and its memory was sampled through the stalled phase
    rss = stalled_phase["rss_kib"]
    assert rss["samples"] >= 2
    assert 0 < rss["start"] <= rss["peak"] and 0 < rss["end"] <= rss["peak"]

    # and raw's figures are there too, whether or not its frames stopped
    raw = figures["systems"]["raw"]
    assert raw["without_stalled"]["frames_arrived"] == raw["without_stalled"]["frames_expected"]
    raw_stalled = raw["with_stalled"]
    assert 0 <= raw_stalled["frames_arrived"] <= raw_stalled["frames_expected"]
    assert raw_stalled["rss_kib"]["samples"] >= 2
    if raw_stalled["stalled_blocks"]:
        assert isinstance(raw_stalled["recovered_once_stalled_closed"], bool)
