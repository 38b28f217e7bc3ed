"""Real databases for every test: a migrated SQLite file and a PostgreSQL database.

PostgreSQL is required when CI is set; elsewhere its tests skip, saying why."""

import asyncio
import atexit
import os
import random
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app import clock as app_clock
from app.cli import migrate
from app.main import create_app
from app.settings import Settings
from tests.delivery.helpers import Mailbox, Receiver, receiving, smtp_server
from tests.helpers import Api, TenantAccess, UserAccess, make_tenant, make_user
from tests.servers import serving_in_loop

POSTGRES_URL = os.environ.get("BELFRY_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BELFRY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = bool(os.environ.get("CI"))


def unavailable(service: str, error: Exception) -> None:
    message = f"{service} is not reachable ({error.__class__.__name__}: {error})"
    if IN_CI:
        pytest.fail(f"{message}; CI requires it", pytrace=False)
    pytest.skip(f"{message}; start it to run these tests")


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    asyncio.run(migrate(Settings(database_url=f"sqlite://{path}")))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    name = f"belfry_test_{uuid.uuid4().hex[:10]}"
    try:
        create_migrated_postgres(name)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        unavailable("PostgreSQL", error)
    yield with_database(POSTGRES_URL, name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_migrated_postgres(name: str) -> None:
    """A new PostgreSQL database, copied from one migrated once per test process: a copy
    takes a tenth of a second, migrating takes seconds."""
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{_migrated_postgres()}"'))


@cache
def _migrated_postgres() -> str:
    name = f"belfry_template_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    atexit.register(lambda: asyncio.run(_pg_admin(drop)))
    asyncio.run(migrate(Settings(database_url=with_database(POSTGRES_URL, name))))
    return name


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis. Pub/sub channels ignore the database number, so tests keep apart by
    using channel names no other run can produce (random ids)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable("Redis", error)
    finally:
        client.close()
    return REDIS_URL


def free_port() -> int:
    """A port nothing listens on, for a server a test starts. Picked below the ports the
    kernel gives outgoing connections: one of those could be taken by a connection (of this
    process or the other test worker) before the server binds it."""
    for _ in range(100):
        port = random.randrange(*LISTENING_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {LISTENING_PORTS}")


def outgoing_ports() -> tuple[int, int]:
    """The range the kernel picks outgoing connections' ports from (first, last)."""
    try:
        first, last = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except OSError:
        return 32768, 60999  # Linux's default
    return int(first), int(last)


LISTENING_PORTS = (10_000, outgoing_ports()[0])

# How long a test waits for a process it started to be ready, or to do what it waits for: many
# times what it takes on a quiet machine, since a loaded CI host can be that much slower. A
# process that ends meanwhile fails the wait at once, so a broken start costs no more.
PATIENCE = 120.0


class RedisServer:
    """A redis-server of the test's own, so it can be stopped and restarted at will."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary, self.port = binary, port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + PATIENCE
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server", FileNotFoundError("not on PATH"))
    server = RedisServer(str(binary), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind; every test using it runs on both."""
    if request.param == "sqlite":
        path = tmp_path / "belfry.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # gc_tuning freezes the heap, which a test process that builds hundreds of apps must not do.
    # Tests run the background jobs themselves, when they want them.
    return Settings(
        database_url=database_url, data_dir=tmp_path, gc_tuning=False, embedded_jobs=False
    )


async def _empty_all_tables() -> None:
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect != "postgres":
        return  # each SQLite test has its own fresh copy
    # DELETE, in an order no foreign key objects to: on a test's few rows it takes a
    # millisecond, where TRUNCATE takes a tenth of a second (a suite's worth of minutes).
    await conn.execute_script("; ".join(f"DELETE FROM {table}" for table in _children_first()))


def _children_first() -> list[str]:
    """Every model's table, each after the tables that refer to it."""
    models = {m for app in Tortoise.apps.values() for m in app.values()}
    refers_to = {
        m: {m._meta.fields_map[name].related_model for name in m._meta.fk_fields} - {m}
        for m in models
    }
    order: list[str] = []
    while models:
        unreferenced = {m for m in models if not any(m in refers_to[o] for o in models)}
        assert unreferenced, "foreign keys in a cycle: empty the tables some other way"
        order += sorted(m._meta.db_table for m in unreferenced)
        models -= unreferenced
    return order


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    # Tortoise caches each model's SQL per connection name, not per dialect; one process only
    # ever talks to one database, but this suite alternates between two.
    EXECUTOR_CACHE.clear()
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await _empty_all_tables()
        yield application


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://belfry.test") as client:
        yield Api(client)


@dataclass(frozen=True)
class LiveServer:
    http_url: str
    ws_url: str
    app: Starlette


@asynccontextmanager
async def serving(settings: Settings, port: int = 0, **options: Any) -> AsyncIterator[LiveServer]:
    """A real uvicorn server on a loopback port (a free one unless given), in this test's
    event loop; `options` are uvicorn's."""
    EXECUTOR_CACHE.clear()
    application = create_app(settings)
    options = {"ws_per_message_deflate": False, **options}
    async with serving_in_loop(application, port, **options) as port:
        yield LiveServer(
            http_url=f"http://127.0.0.1:{port}",
            ws_url=f"ws://127.0.0.1:{port}/graphql",
            app=application,
        )


@asynccontextmanager
async def serving_on_redis(
    settings: Settings, redis: RedisServer
) -> AsyncIterator[tuple[LiveServer, Api]]:
    """A live server whose broadcast goes through a Redis the test can stop and start, and an
    API client for it."""
    async with (
        serving(settings.model_copy(update={"broadcast_url": redis.url})) as live,
        httpx.AsyncClient(base_url=live.http_url) as client,
    ):
        yield live, Api(client)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[LiveServer]:
    async with serving(settings) as live:
        await _empty_all_tables()
        yield live


@pytest.fixture
async def live_api(server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        yield Api(client)


# Real peers for deliveries: an HTTP client, a loopback HTTP receiver and an SMTP server.


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy from the environment must not intercept loopback requests.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as live:
        yield live


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


class Clock:
    """The clock every decision by time asks (app.clock): tests move it instead of waiting.
    Whatever waits for one of its times (a socket's expiry) wakes as it is moved."""

    def set(self, when: datetime) -> None:
        app_clock.set_ahead(when - datetime.now(UTC))

    def advance(self, by: timedelta) -> None:
        self.set(app_clock.now() + by)


@pytest.fixture(autouse=True)
def real_time_again() -> Iterator[None]:
    """Whoever moved the clock in a test (the clock fixture, a helper), the next test starts
    on real time."""
    yield
    app_clock.set_ahead(timedelta(0))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def tenant() -> TenantAccess:
    """A tenant and its API key, for the tests that need one (some modules make their own)."""
    return await make_tenant()


@pytest.fixture
async def alice(api: Api, tenant: TenantAccess) -> UserAccess:
    """A member of `tenant`, with a token."""
    return await make_user(api, tenant, "alice")
