"""One clock: app/ reads the time only through app.clock, and what waits for one of its times
wakes when tests move it."""

import ast
import asyncio
from datetime import timedelta
from pathlib import Path

from app import clock as app_clock
from tests.conftest import Clock

APP = Path(__file__).parent.parent / "app"
TESTS = Path(__file__).parent
SLEEPS = {("asyncio", "sleep"), ("time", "sleep")}
LONGEST_SLEEP = 1.0  # seconds a test may wait on real time, where it cannot move the clock
# Sleeps longer than that which remain, each with its reason.
LONG_SLEEPS = {
    ("http/test_http_protocol.py", "asyncio.sleep(PAST_THE_TIMEOUTS)"): (
        "the HTTP header and body timeouts are the uvicorn protocol's real seconds, not "
        "app.clock's: an idle subscription is shown to outlive them by waiting past them"
    ),
}

# (owner, attribute) of every reading of the wall clock: datetime.now(), time.time(), ...
WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("timezone", "now"),  # Tortoise's
}


def wall_clock_reads(source: str) -> list[str]:
    """Each `datetime.now`, `time.time` and the like, called or passed on, and each import of
    `time` or `time_ns` by name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and (_owner(node.value), node.attr) in WALL_CLOCK:
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            names = [a.name for a in node.names if a.name in ("time", "time_ns")]
            found += [(node.lineno, f"time.{name}") for name in names]
    return [text for _, text in sorted(found)]


def _owner(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def test_the_scan_finds_every_way_of_reading_the_wall_clock() -> None:
    source = (
        "datetime.now(UTC)\ndatetime.datetime.utcnow()\ndate.today()\ntime.time()\n"
        "f(default=datetime.now)\nfrom time import time_ns\ntime.monotonic()\nclock.now()\n"
    )

    assert wall_clock_reads(source) == [
        "datetime.now",
        "datetime.datetime.utcnow",
        "date.today",
        "time.time",
        "datetime.now",
        "time.time_ns",
    ]


def test_no_module_but_the_clock_reads_the_wall_clock() -> None:
    found = {
        str(path.relative_to(APP)): reads
        for path in sorted(APP.rglob("*.py"))
        if path.name != "clock.py" or path.parent != APP
        if (reads := wall_clock_reads(path.read_text()))
    }

    assert found == {}


def long_sleeps(source: str) -> list[str]:
    """Each `asyncio.sleep` and `time.sleep` that may wait longer than LONGEST_SLEEP: for more
    than that many seconds, or for a time worked out (a name is looked up among the module's
    constants)."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and (_owner(node.func.value), node.func.attr) in SLEEPS
            and node.args
        ):
            continue
        [seconds, *_] = node.args
        if isinstance(seconds, ast.Name):
            value = constants.get(seconds.id)
        else:
            value = seconds.value if isinstance(seconds, ast.Constant) else None
        if not isinstance(value, int | float) or value > LONGEST_SLEEP:
            found.append((node.lineno, ast.unparse(node)))
    return [text for _, text in sorted(found)]


def test_the_sleep_scan_finds_the_long_ones_and_the_worked_out_ones() -> None:
    source = (
        "PAUSE = 0.5\nLONG = 3\nawait asyncio.sleep(0.05)\nawait asyncio.sleep(PAUSE)\n"
        "await asyncio.sleep(1.2)\ntime.sleep(LONG)\nawait asyncio.sleep(left + 0.1)\n"
    )

    assert long_sleeps(source) == [
        "asyncio.sleep(1.2)",
        "time.sleep(LONG)",
        "asyncio.sleep(left + 0.1)",
    ]


def test_no_test_waits_on_real_time_for_long_but_those_listed_with_a_reason() -> None:
    found = {
        (str(path.relative_to(TESTS)), sleep)
        for path in sorted(TESTS.rglob("*.py"))
        for sleep in long_sleeps(path.read_text())
    }

    assert found == set(LONG_SLEEPS)
    assert all(LONG_SLEEPS.values())


async def test_an_alarm_rings_as_soon_as_the_clock_passes_its_time(clock: Clock) -> None:
    # Given an alarm an hour from now
    rung = asyncio.Event()
    app_clock.call_at(app_clock.now() + timedelta(hours=1), rung.set)

    # When the clock is moved past it
    clock.advance(timedelta(hours=1, seconds=1))

    # Then it rings without the hour going by
    await asyncio.wait_for(rung.wait(), timeout=5)


async def test_an_alarm_waits_while_its_time_is_ahead(clock: Clock) -> None:
    rung = asyncio.Event()
    alarm = app_clock.call_at(app_clock.now() + timedelta(hours=1), rung.set)

    clock.advance(timedelta(minutes=59))
    for _ in range(5):
        await asyncio.sleep(0)

    assert not rung.is_set()
    alarm.cancel()


async def test_an_alarm_of_a_time_gone_by_rings_at_once() -> None:
    rung = asyncio.Event()

    app_clock.call_at(app_clock.now() - timedelta(seconds=1), rung.set)

    await asyncio.wait_for(rung.wait(), timeout=5)


async def test_a_cancelled_alarm_never_rings(clock: Clock) -> None:
    rung = asyncio.Event()
    alarm = app_clock.call_at(app_clock.now() + timedelta(hours=1), rung.set)

    alarm.cancel()
    clock.advance(timedelta(hours=2))
    for _ in range(5):
        await asyncio.sleep(0)

    assert not rung.is_set()
