"""A `belfry` process from start to stop, as an operator meets it: a port already taken, a
database never migrated, and SIGTERM or Ctrl-C at any moment."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PATIENCE, free_port
from tests.processes import migrated_sqlite, until_serving

GRACE = 2  # BELFRY_SHUTDOWN_GRACE_SECONDS for these processes
# Stopping may take the grace, then the sockets' going away and the jobs' wind-down; past this
# a process is hung. Generous, for a loaded host: a hang is forever.
STOPPED_WITHIN = GRACE + 30


def environment(tmp_path: Path, *, migrated: bool = True) -> dict[str, str]:
    database = tmp_path / "belfry.sqlite3"
    if migrated:
        database.write_bytes(migrated_sqlite().read_bytes())
    return {
        **os.environ,
        "BELFRY_DATABASE_URL": f"sqlite://{database}",
        "BELFRY_DATA_DIR": str(tmp_path),
        "BELFRY_SHUTDOWN_GRACE_SECONDS": str(GRACE),
    }


def start(env: dict[str, str], *args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a suite started in a script's background inherits SIGINT
        # ignored, and so would the process (Unix's rule for background jobs).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def finish(process: "subprocess.Popen[str]") -> tuple[str, str]:
    try:
        return process.communicate(timeout=STOPPED_WITHIN)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("the process did not stop") from None


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_port_already_taken_is_one_line_naming_it(tmp_path: Path, command: str) -> None:
    # Given something listening on the port
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]

        # When belfry is told to serve there
        process = start(environment(tmp_path), command, "--port", str(port))
        _, err = finish(process)

    # Then it exits at once, saying which port, and nothing else
    assert process.returncode == 2
    assert err.splitlines() == [
        f"error: --port: cannot listen on 127.0.0.1:{port} (Address already in use)"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("create-tenant", "Acme"),
        ("worker",),
        ("serve", "--no-migrate", "--port", "0"),
    ],
    ids=["admin", "worker", "serve"],
)
def test_a_database_never_migrated_is_one_line_saying_to_migrate(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    # Given a database file that `belfry migrate` never ran on
    env = environment(tmp_path, migrated=False)

    # When a command that needs its tables runs
    process = start(env, *args)
    _, err = finish(process)

    # Then it says what to do, in one line, as the other configuration errors do (after the
    # log lines of a server or worker)
    assert process.returncode == 2 and "Traceback" not in err
    line = err.splitlines()[-1]
    assert line.startswith("error: the database at BELFRY_DATABASE_URL lacks")
    assert line.endswith("run `belfry migrate` first")
    if args[0] == "create-tenant":
        assert err.splitlines() == [line]


def test_a_database_migrated_by_now_is_served(tmp_path: Path) -> None:
    # Given a database `belfry migrate` brought up to date
    env = environment(tmp_path, migrated=False)
    migrate = start(env, "migrate")
    finish(migrate)

    # When an admin command runs on it
    process = start(env, "create-tenant", "Acme", "--json")
    out, _ = finish(process)

    # Then it works
    assert migrate.returncode == 0 and process.returncode == 0 and "tenantId" in out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("moment", ["starting", "serving"])
@pytest.mark.parametrize("command", ["serve", "demo", "worker"])
async def test_a_signal_stops_every_command_at_any_moment(
    tmp_path: Path, command: str, moment: str, sig: signal.Signals
) -> None:
    # Given a command starting, or at work (a worker serves its metrics meanwhile)
    port = free_port()
    env = environment(tmp_path)
    if command == "worker":
        env["BELFRY_WORKER_METRICS_PORT"] = str(port)
    process = start(env, command, *([] if command == "worker" else ["--port", str(port)]))
    if moment == "starting":
        await asyncio.sleep(0.5)  # importing, migrating or starting the application
    else:
        path = "/metrics" if command == "worker" else "/readyz"
        await until_serving(f"http://127.0.0.1:{port}", process, path)

    # When it is told to stop
    process.send_signal(sig)
    sent = time.monotonic()
    _, err = await asyncio.to_thread(finish, process)

    # Then it stops within the grace; once started, Ctrl-C is no crash
    assert time.monotonic() - sent < STOPPED_WITHIN, err
    assert process.returncode in (0, 130, -sig), err
    if moment == "serving":
        assert "Traceback" not in err, err


async def test_a_server_slower_to_start_than_a_quiet_machine_allows_is_waited_for(
    tmp_path: Path,
) -> None:
    # Given a server that takes 25 seconds to answer, as a loaded host can make it
    port = free_port()
    script = (
        "import http.server, time\n"
        "time.sleep(25)\n"
        f"http.server.HTTPServer(('127.0.0.1', {port}), http.server.SimpleHTTPRequestHandler)"
        ".serve_forever()\n"
    )
    (tmp_path / "readyz").write_text("ok")
    process = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path)
    try:
        # When a test waits for it to be ready
        started = time.monotonic()
        await until_serving(f"http://127.0.0.1:{port}", process)

        # Then it is waited for, within the suite's patience
        assert 25 <= time.monotonic() - started < PATIENCE
    finally:
        process.kill()
        process.wait()
