"""Shared bench plumbing: a scratch PostgreSQL database, timing and reporting."""

import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from app.cli import migrate
from app.settings import Settings

ADMIN_URL = os.environ.get("BELFRY_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results"


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def bench_settings(url: str, **overrides: Any) -> Settings:
    """The app as a bench drives it: one caller sends thousands of requests a minute, so the
    rate limits are off, and background jobs stay out of the measured process."""
    limits_off = {"rate_limit_api_key": 0, "rate_limit_user": 0, "rate_limit_anonymous": 0}
    return Settings(database_url=url, embedded_jobs=False, **{**limits_off, **overrides})


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A migrated PostgreSQL database that exists for one bench run."""
    name = f"belfry_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        await migrate(Settings(database_url=url))
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def timed(call: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    """Latencies in milliseconds, after a short warm-up."""
    for _ in range(min(20, runs)):
        await call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 3),
    }


def report(name: str, figures: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"written to {path}")


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(main())
