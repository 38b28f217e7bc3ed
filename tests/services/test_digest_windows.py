"""A digest's windows: hourly and daily, aligned in UTC."""

from datetime import UTC, datetime

from app.models import Cadence
from app.services.digest_windows import window_end


def test_windows_are_aligned_to_the_hour_and_the_day() -> None:
    at = datetime(2026, 3, 4, 10, 17, 5, tzinfo=UTC)

    assert window_end(Cadence.HOURLY, at) == datetime(2026, 3, 4, 11, tzinfo=UTC)
    assert window_end(Cadence.DAILY, at) == datetime(2026, 3, 5, tzinfo=UTC)
