"""When quiet hours hold a delivery, and until when: across midnight, on chosen days, and
across daylight-saving changes."""

from datetime import UTC, datetime

import pytest

from app.services.quiet_hours import EVERY_DAY, Settings, window


def quiet(start: str, end: str, zone: str, days: tuple[int, ...] = EVERY_DAY) -> Settings:
    return Settings(start=start, end=end, timezone=zone, days=days, enabled=True)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_quiet_hours_across_midnight_hold_until_the_next_morning() -> None:
    night = window(quiet("22:00", "07:30", "Europe/Berlin"), None)  # UTC+1 in January

    assert night.release(utc("2026-01-14 21:30")) == utc("2026-01-15 06:30")  # 22:30 local
    assert night.release(utc("2026-01-15 05:00")) == utc("2026-01-15 06:30")  # 06:00 local
    assert night.release(utc("2026-01-15 06:30")) is None  # 07:30 local: over
    assert night.release(utc("2026-01-14 20:59")) is None  # 21:59 local: not yet


def test_quiet_hours_within_a_day() -> None:
    lunch = window(quiet("12:00", "13:00", "Asia/Tokyo"), None)  # UTC+9, no DST

    assert lunch.release(utc("2026-05-01 03:15")) == utc("2026-05-01 04:00")
    assert lunch.release(utc("2026-05-01 04:00")) is None


def test_quiet_hours_belong_to_the_day_they_start_on() -> None:
    # Fridays only (ISO 5): Friday night runs into Saturday; Saturday night is not quiet.
    fridays = window(quiet("22:00", "07:00", "UTC", days=(5,)), None)

    assert fridays.release(utc("2026-01-16 23:00")) == utc("2026-01-17 07:00")  # Friday
    assert fridays.release(utc("2026-01-17 06:00")) == utc("2026-01-17 07:00")  # Saturday
    assert fridays.release(utc("2026-01-17 23:00")) is None  # Saturday night
    assert fridays.release(utc("2026-01-15 23:00")) is None  # Thursday night


@pytest.mark.parametrize(
    ("zone", "evening", "release"),
    [
        # New York springs forward on 8 March 2026: 07:00 is 12:00 UTC before, 11:00 after.
        ("America/New_York", "2026-03-08 03:30", "2026-03-08 11:00"),
        # Berlin on 29 March 2026: 07:00 is 06:00 UTC before, 05:00 after.
        ("Europe/Berlin", "2026-03-28 21:30", "2026-03-29 05:00"),
    ],
)
def test_a_night_with_a_daylight_saving_change_ends_at_the_local_time(
    zone: str, evening: str, release: str
) -> None:
    night = window(quiet("22:00", "07:00", zone), None)

    assert night.release(utc(evening)) == utc(release)


def test_a_night_when_clocks_go_back_lasts_an_hour_longer() -> None:
    # New York falls back on 1 November 2026: 22:00 EDT (02:00 UTC) to 07:00 EST (12:00 UTC).
    night = window(quiet("22:00", "07:00", "America/New_York"), None)

    assert night.release(utc("2026-11-01 02:00")) == utc("2026-11-01 12:00")
    assert night.release(utc("2026-11-01 11:59")) == utc("2026-11-01 12:00")
    assert night.release(utc("2026-11-01 12:00")) is None


def test_without_a_timezone_they_follow_the_users_and_else_utc() -> None:
    mine = quiet("22:00", "07:00", zone="")
    mine = Settings(mine.start, mine.end, None, mine.days, True)

    assert window(mine, "Asia/Tokyo").zone.key == "Asia/Tokyo"
    assert window(mine, "Mars/Olympus").zone.key == "UTC"  # not a name the database knows
    assert window(mine, None).zone.key == "UTC"


@pytest.mark.parametrize("own", ["Europe", "x" * 300])  # a folder of the database; too long a name
def test_a_users_own_timezone_that_names_no_zone_file_is_followed_as_utc(own: str) -> None:
    # Given quiet hours that follow the user's own timezone, which a host application set
    mine = Settings("22:00", "07:00", None, EVERY_DAY, True)

    # When their window is read, then it follows UTC instead of failing
    assert window(mine, own).zone.key == "UTC"
