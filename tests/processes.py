"""Real `belfry` processes, for the tests about what a process does as a whole (signals, exit
status, logs) and about what reaches one process from another."""

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import (
    PATIENCE,
    POSTGRES_URL,
    _pg_admin,
    create_migrated_postgres,
    free_port,
    with_database,
)
from tests.helpers import TenantAccess


def created_tenant(env: dict[str, str]) -> TenantAccess:
    command = [sys.executable, "-m", "app.cli", "create-tenant", "Replicas", "--json"]
    created = json.loads(
        subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    )
    return TenantAccess(tenant_id=created["tenantId"], api_key=created["apiKey"])


@contextmanager
def replica_database(redis_url: str) -> Iterator[dict[str, str]]:
    """The environment of processes sharing a fresh, migrated PostgreSQL database and the
    test Redis; the database is dropped afterwards."""
    name = f"belfry_replicas_{uuid.uuid4().hex[:10]}"
    create_migrated_postgres(name)
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": with_database(POSTGRES_URL, name),
        "BELFRY_BROADCAST_URL": redis_url,
    }
    try:
        yield env
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def serve_process(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """`belfry serve` in a process of its own, until the block ends; its log goes to a file,
    which never fills up as an unread pipe would."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(until_serving(url, process, log=log))
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


@dataclass(frozen=True)
class ServerProcess:
    url: str
    tenant: TenantAccess
    process: "subprocess.Popen[bytes]"
    env: dict[str, str]  # for other processes on the same database

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/graphql"


@cache
def migrated_sqlite() -> Path:
    """An empty migrated SQLite database, made once per test process, to copy."""
    path = Path(tempfile.mkdtemp(prefix="belfry-template-")) / "belfry.sqlite3"
    env = {**os.environ, "BELFRY_DATABASE_URL": f"sqlite://{path}"}
    subprocess.run([sys.executable, "-m", "app.cli", "migrate"], env=env, check=True)
    return path


@asynccontextmanager
async def server_process(
    tmp_path: Path, env: dict[str, str] | None = None, stderr: Path | None = None
) -> AsyncIterator[ServerProcess]:
    """A migrated database with one tenant, served by its own process until the block ends
    (or the test stops it); with `env` added to its environment, its stderr in `stderr`."""
    database = tmp_path / "belfry.sqlite3"
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": f"sqlite://{database}",
        "BELFRY_DATA_DIR": str(tmp_path),
        **(env or {}),
    }
    if env["BELFRY_DATABASE_URL"] == f"sqlite://{database}":
        shutil.copyfile(migrated_sqlite(), database)
    else:
        subprocess.run([sys.executable, "-m", "app.cli", "migrate"], env=env, check=True)
    port = free_port()
    log = None if stderr is None else stderr.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if log is None else log,
    )
    try:
        # Made while the server starts: each process takes seconds to import.
        tenant = await asyncio.to_thread(created_tenant, env)
        url = f"http://127.0.0.1:{port}"
        await until_serving(url, process, log=stderr)
        yield ServerProcess(url, tenant, process, env)
    finally:
        if process.poll() is None:
            process.kill()
        if log is not None:
            log.close()


async def until_serving(
    url: str,
    process: "subprocess.Popen[Any]",
    path: str = "/readyz",
    *,
    headers: dict[str, str] | None = None,
    log: Path | None = None,
) -> None:
    """Until the process answers `path` with 200 (its own readiness check, by default), for as
    long as it runs; then its log, if it has one, says why it ended."""
    deadline = time.monotonic() + PATIENCE
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the process ended ({process.returncode}) {said(log)}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(path, headers=headers)).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url}{path} did not answer within {PATIENCE} s")


def said(log: Path | None) -> str:
    return log.read_text() if log is not None and log.exists() else ""


async def eventually(condition: Callable[[], object], what: str) -> None:
    """Until `condition()` holds, checked every 50 ms, for as long as PATIENCE allows."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)
