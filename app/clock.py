"""The time that decisions by the clock ask for: quiet hours, held deliveries and scheduled
sends. One function, so that tests can set the time those see instead of waiting for it."""

from datetime import UTC, datetime, timedelta

_ahead = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _ahead


def set_ahead(by: timedelta) -> None:
    """Moves the clock by `by` from real time (tests only; timedelta(0) puts it back)."""
    global _ahead
    _ahead = by
