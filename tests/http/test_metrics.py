"""/metrics from real processes: `belfry serve --workers 2`, whose workers' counters a scrape of
either one sums, and `belfry worker`'s own listener."""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.delivery.helpers import Receiver
from tests.delivery.test_worker import CATEGORY, TENANT_PREF, UPDATE_CHANNEL
from tests.helpers import Api, TenantAccess, make_user, publish
from tests.processes import created_tenant, eventually, replica_database, until_serving
from tests.test_metrics import Scrape

TOKEN = "scrape-token"


@contextmanager
def running(env: dict[str, str], *args: str) -> Iterator["subprocess.Popen[bytes]"]:
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def bearer() -> dict[str, str]:
    return {"authorization": f"Bearer {TOKEN}"}


async def fresh_scrape(url: str) -> Scrape:
    """Over a new connection, so that successive scrapes may reach different workers."""
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/metrics", headers=bearer())
    assert response.status_code == 200
    return Scrape(response.text)


async def webhook_channel(api: Api, tenant: TenantAccess, receiver: Receiver) -> None:
    config = {"url": f"{receiver.url}/hook"}
    channel = {"channel": "WEBHOOK", "input": {"enabled": True, "config": config}}
    await api.data(UPDATE_CHANNEL, channel, token=tenant.api_key)
    preference = {"input": {"category": CATEGORY, "webhook": True}}
    await api.data(TENANT_PREF, preference, token=tenant.api_key)


async def until_received(receiver: Receiver, count: int) -> None:
    await eventually(lambda: len(receiver.requests) >= count, "the webhooks came")


def metrics_dirs(tmp: Path) -> list[Path]:
    return list(tmp.glob("belfry-metrics-*"))


def pids_writing_metrics(tmp: Path) -> set[int]:
    return {int(f.stem.rsplit("_", 1)[1]) for f in tmp.glob("belfry-metrics-*/counter_*.db")}


@pytest.fixture
def replicas_env(postgres_database: str, redis_url: str) -> Iterator[dict[str, str]]:
    """(postgres_database is asked for only to skip, or fail in CI, without PostgreSQL.)"""
    with replica_database(redis_url) as env:
        yield env


async def test_two_workers_counters_are_summed_in_every_scrape(
    replicas_env: dict[str, str],
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    env = {
        **replicas_env,
        "BELFRY_METRICS_TOKEN": TOKEN,
        "BELFRY_ALLOW_PRIVATE_TARGETS": "true",
        "TMPDIR": str(tmp_path),  # where the metrics directory is made, to look into
    }
    tenant = created_tenant(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ("serve", "--port", str(port), "--workers", "2", "--no-migrate")
    with running(env, *args) as process:
        await until_serving(url, process)
        async with httpx.AsyncClient(base_url=url) as client:
            api = Api(client)
            await webhook_channel(api, tenant, receiver)
            await make_user(api, tenant, "alice")
        publishes = 6
        for _ in range(publishes):  # each on a new connection, to either worker
            async with httpx.AsyncClient(base_url=url) as client:
                await publish(Api(client), tenant, ["alice"], category=CATEGORY)
        await until_received(receiver, publishes)
        scrapes = [await fresh_scrape(url) for _ in range(8)]
        workers = pids_writing_metrics(tmp_path)

    sent = {"channel": "WEBHOOK", "status": "sent"}
    for scrape in scrapes:
        assert scrape.value("belfry_publishes_total") == publishes
        assert scrape.value("belfry_notifications_created_total") == publishes
        assert scrape.value("belfry_deliveries_total", **sent) == publishes
    assert len(workers) >= 2  # more if the server replaced a worker that missed a health check
    assert process.returncode == 0
    assert not metrics_dirs(tmp_path)  # removed when the server stopped


async def test_belfry_worker_serves_its_metrics_on_its_own_port(
    tmp_path: Path, sqlite_template: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": f"sqlite://{tmp_path / 'belfry.sqlite3'}",
        "BELFRY_WORKER_METRICS_PORT": str(port),
        "BELFRY_METRICS_TOKEN": TOKEN,
    }
    shutil.copyfile(sqlite_template, tmp_path / "belfry.sqlite3")  # a migrated database
    url = f"http://127.0.0.1:{port}"

    with running(env, "worker") as process:
        await until_serving(url, process, "/metrics", headers=bearer())
        scrape = await fresh_scrape(url)
        for _ in range(200):  # until the jobs' first rounds are done
            if scrape.value("belfry_retention_runs_total") and scrape.value(
                "belfry_digest_runs_total"
            ):
                break
            await asyncio.sleep(0.05)
            scrape = await fresh_scrape(url)
        async with httpx.AsyncClient(base_url=url) as client:
            refused = await client.get("/metrics")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    # Retention and digests run as the worker starts.
    assert scrape.value("belfry_retention_runs_total", outcome="ok") >= 1
    assert scrape.value("belfry_digest_runs_total", outcome="ok") >= 1
    assert "belfry_delivery_queue_depth" in scrape.text
    assert refused.status_code == 401
    assert process.returncode == 0


def test_a_worker_metrics_port_in_use_is_one_clear_error(
    tmp_path: Path, sqlite_template: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        env = {
            **os.environ,
            "BELFRY_DATABASE_URL": f"sqlite://{tmp_path / 'belfry.sqlite3'}",
            "BELFRY_WORKER_METRICS_PORT": str(taken.getsockname()[1]),
        }
        shutil.copyfile(sqlite_template, tmp_path / "belfry.sqlite3")  # a migrated database
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 2
    assert "BELFRY_WORKER_METRICS_PORT" in result.stderr and "Traceback" not in result.stderr
