"""A real `belfry serve` process on SQLite, for the tests about what a process does as a
whole (signals, exit status)."""

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.helpers import TenantAccess
from tests.test_cli import created_tenant


@dataclass(frozen=True)
class ServerProcess:
    url: str
    tenant: TenantAccess
    process: "subprocess.Popen[bytes]"
    env: dict[str, str]  # for other processes on the same database

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/graphql"


@asynccontextmanager
async def server_process(
    tmp_path: Path, env: dict[str, str] | None = None, stderr: Path | None = None
) -> AsyncIterator[ServerProcess]:
    """A migrated database with one tenant, served by its own process until the block ends
    (or the test stops it); with `env` added to its environment, its stderr in `stderr`."""
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": f"sqlite://{tmp_path / 'belfry.sqlite3'}",
        "BELFRY_DATA_DIR": str(tmp_path),
        **(env or {}),
    }
    subprocess.run([sys.executable, "-m", "app.cli", "migrate"], env=env, check=True)
    tenant = created_tenant(env)
    port = free_port()
    log = None if stderr is None else stderr.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if log is None else log,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url) as http:
            await until_ready(http)
        yield ServerProcess(url, tenant, process, env)
    finally:
        if process.poll() is None:
            process.kill()
        if log is not None:
            log.close()


async def until_ready(http: httpx.AsyncClient) -> None:
    for _ in range(200):
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/readyz")).status_code == 200:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the server did not start")
