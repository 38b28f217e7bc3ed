"""The time every decision by the clock asks for: token expiry, rate-limit windows, digest
windows, backoff, retention, expiry, snoozes, quiet hours, held deliveries and scheduled sends.
One function, so that tests set the time those see instead of waiting for it; and alarms, so
that what waits for a time of this clock (a socket whose token expires) wakes when it is moved.

Durations (timeouts, polling intervals, what a step took) are not the clock's business: they
stay on the event loop's or time.monotonic's real seconds."""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_ahead = timedelta(0)
_pending: set["Alarm"] = set()  # re-armed when the clock is moved


def now() -> datetime:
    return datetime.now(UTC) + _ahead


def real_ms() -> int:
    """Real time in milliseconds, which tests never move: for positions kept beside Redis
    stream ids, which Redis numbers by its own clock (app.live's kept events)."""
    return time.time_ns() // 1_000_000


def set_ahead(by: timedelta) -> None:
    """Moves the clock by `by` from real time (tests only; timedelta(0) puts it back). Alarms
    now due ring at the loop's next turn; the others wait for their time as it now stands."""
    global _ahead
    _ahead = by
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    for alarm in list(_pending):
        loop = alarm.loop
        if loop.is_closed():  # its test is over
            _pending.discard(alarm)
        elif loop is running:
            alarm.arm()
        else:
            loop.call_soon_threadsafe(alarm.arm)


class Alarm:
    """Calls `callback(*args)` on `loop` once this clock reads `when` or later. Like the
    loop's own timer handle, it can be cancelled."""

    __slots__ = ("_args", "_callback", "_handle", "loop", "when")

    def __init__(
        self, when: datetime, callback: Callable[..., object], args: tuple[object, ...]
    ) -> None:
        self.when = when
        self.loop = asyncio.get_running_loop()
        self._callback = callback
        self._args = args
        self._handle: asyncio.TimerHandle | None = None
        _pending.add(self)
        self.arm()

    def arm(self) -> None:
        """(Re)schedules the ring for `when` as the clock now stands."""
        if self not in _pending:
            return  # rung or cancelled meanwhile
        if self._handle is not None:
            self._handle.cancel()
        left = (self.when - now()).total_seconds()
        self._handle = self.loop.call_later(max(0.0, left), self._ring)

    def cancel(self) -> None:
        _pending.discard(self)
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _ring(self) -> None:
        if now() < self.when:  # the loop's timer ran a little ahead of the wall clock
            self.arm()
            return
        self.cancel()
        self._callback(*self._args)


def call_at(when: datetime, callback: Callable[..., object], *args: object) -> Alarm:
    """`callback(*args)` once the clock reads `when` (at once if it is past), in the running
    loop."""
    return Alarm(when, callback, args)
