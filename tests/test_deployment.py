"""compose.yaml and the Docker build context, read as Docker reads them; the commands compose
runs are run here against the real PostgreSQL and Redis (no Docker engine runs in CI)."""

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from tests.conftest import POSTGRES_URL, _pg_admin, free_port, with_database
from tests.processes import until_serving

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted(p.stem for p in (ROOT / "migrations").glob("0*.py"))


def services() -> dict[str, dict[str, Any]]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return dict(compose["services"])


def runs(service: dict[str, Any], command: str) -> bool:
    return bool(service.get("command", [])[:2] == ["belfry", command])


def test_compose_migrates_once_and_its_servers_wait_for_it() -> None:
    # Given the services compose starts
    belfry = services()

    # When those that migrate and those that serve are picked out
    migrating = [name for name, s in belfry.items() if runs(s, "migrate")]
    serving = {name: s for name, s in belfry.items() if runs(s, "serve") or "build" in s}
    serving = {name: s for name, s in serving.items() if name not in migrating}

    # Then one step migrates, and every server skips it and starts only once it succeeded
    assert len(migrating) == 1 and serving
    for service in serving.values():
        assert runs(service, "serve") and "--no-migrate" in service["command"]
        waits_for = service["depends_on"][migrating[0]]
        assert waits_for == {"condition": "service_completed_successfully"}


def test_compose_passes_the_allowed_origins_on_from_the_env_file() -> None:
    environment = services()["belfry"]["environment"]

    assert environment["BELFRY_ALLOWED_ORIGINS"].startswith("${BELFRY_ALLOWED_ORIGINS")


@pytest.mark.parametrize(
    "path", ["clients/js/node_modules", "bench/socketio/node_modules", ".env", ".venv"]
)
def test_the_docker_build_context_leaves_out(path: str) -> None:
    patterns = (ROOT / ".dockerignore").read_text().split()

    assert any(fnmatch(path, pattern) for pattern in patterns)


def compose_command(service: str, port: int | None = None) -> list[str]:
    command = [str(part) for part in services()[service]["command"]]
    if port is not None:
        command[command.index("--port") + 1] = str(port)
    return [sys.executable, "-m", "app.cli", *command[1:]]


async def applied_migrations(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch("SELECT name FROM tortoise_migrations ORDER BY name")
    finally:
        await conn.close()
    return [row["name"] for row in rows]


@pytest.fixture
async def empty_postgres(postgres_database: str) -> AsyncIterator[str]:
    """A PostgreSQL database nothing has migrated. (postgres_database is asked for only to
    skip, or fail in CI, without PostgreSQL.)"""
    name = f"belfry_compose_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    yield with_database(POSTGRES_URL, name)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_composes_commands_migrate_once_then_serve_two_replicas(
    empty_postgres: str, redis_url: str, tmp_path: Path
) -> None:
    # Given an empty PostgreSQL database and Redis, as compose's services give them
    env = {**os.environ, "BELFRY_DATABASE_URL": empty_postgres, "BELFRY_BROADCAST_URL": redis_url}

    # When the migrate step runs, then two replicas start with compose's command
    migrated = subprocess.run(compose_command("migrate"), env=env, check=False)
    ports = [free_port(), free_port()]
    replicas = [
        subprocess.Popen(compose_command("belfry", port), env=env, cwd=tmp_path) for port in ports
    ]
    try:
        for port, process in zip(ports, replicas, strict=True):
            await until_serving(f"http://127.0.0.1:{port}", process)
    finally:
        for process in replicas:
            process.terminate()
            process.wait(timeout=60)

    # Then the step migrated the database, once, and both replicas served it
    assert migrated.returncode == 0
    assert await applied_migrations(empty_postgres) == MIGRATIONS


def test_the_image_still_migrates_when_run_on_its_own() -> None:
    # A single container (docker run) has no migrate step before it: it migrates itself.
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))

    assert '"serve"' in cmd and "--no-migrate" not in cmd


def test_every_migration_is_described_in_the_upgrade_notes() -> None:
    notes = (ROOT / "docs" / "operations.md").read_text().split("## Upgrading", 1)[1]

    assert [m for m in MIGRATIONS if f"`{m}`" not in notes] == []


def test_a_downgrade_is_said_to_mean_the_backup() -> None:
    notes = (ROOT / "docs" / "operations.md").read_text().split("## Upgrading", 1)[1]

    assert "restor" in notes.split("\n## ", 1)[0].lower()
