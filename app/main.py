"""The ASGI application, assembled: the settings, the schema, the transport (app.http: /graphql,
/healthz, /readyz, /metrics and /static) and, for a server that runs on its own, the background
jobs."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from tortoise.contrib.starlette import RegisterTortoise

from app import db, demo
from app.delivery import worker as delivery_worker
from app.graphql.schema import schema, with_extensions
from app.http.transport import Transport
from app.live.hub import connect_hub
from app.services import digests, inbox_clock, retention, scheduling
from app.settings import Settings
from app.tracing import active as tracing_active
from app.tracing import configure as configure_tracing
from app.tracing import schema_extensions as tracing_extensions

logger = logging.getLogger("belfry")


async def open_database() -> None:
    """Connects before the jobs start (see db.connect_now). A database that is down is no
    reason not to start: requests answer 503, and /readyz says so, until it is back."""
    try:
        await db.connect_now()
    except Exception as error:
        if not db.is_unavailable(error):
            raise
        logger.warning("the database cannot be reached yet: %s", error)


def start_jobs(settings: Settings) -> list[asyncio.Task[None]]:
    """The background work a `belfry worker` does (delivery, digests, retention, the inbox
    clock, scheduled sends), for a server that runs on its own."""
    return [
        asyncio.create_task(
            retention.run_periodically(settings.retention_interval_seconds), name="retention"
        ),
        asyncio.create_task(delivery_worker.work(settings), name="delivery"),
        asyncio.create_task(
            digests.run_periodically(settings.digest_interval_seconds), name="digests"
        ),
        asyncio.create_task(
            inbox_clock.run_periodically(settings.inbox_clock_interval_seconds),
            name="inbox clock",
        ),
        asyncio.create_task(
            scheduling.run_periodically(settings.schedule_interval_seconds), name="schedule"
        ),
    ]


async def stop_jobs(jobs: list[asyncio.Task[None]]) -> None:
    for job in jobs:
        job.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)


def tune_gc() -> None:
    """A server holding thousands of websockets has a large heap, and each full collection
    scans all of it: measured at 200+ ms with 1,000 subscribers, stalling every socket. Objects
    from start-up live forever, so they are frozen out of collections; and young collections
    run less often, so per-event objects die by reference count instead of being promoted."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    settings.ensure_data_dir()
    configure_tracing(settings)
    transport = Transport(
        settings, with_extensions(tracing_extensions()) if tracing_active() else schema
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with (
            RegisterTortoise(app, config=settings.tortoise_config()),
            connect_hub(settings),
            transport.running(),
        ):
            await open_database()
            if settings.gc_tuning:
                tune_gc()
            jobs = start_jobs(settings) if settings.embedded_jobs else []
            try:
                with transport.going_away_on_sigterm():
                    yield {}
            finally:
                await stop_jobs(jobs)

    return transport.application(lifespan, demo.routes(settings) if settings.demo else [])
