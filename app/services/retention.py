"""Hard-deletes what tenants keep no longer, in small batches so no lock is held for long."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from tortoise.models import Model
from tortoise.queryset import QuerySet

from app import clock, jobs, metrics
from app.models import FINISHED, Delivery, Event, Notification, Tenant

logger = logging.getLogger("belfry.retention")

BATCH = 1000


async def _erase(model: type[Model], due: QuerySet[Any]) -> int:
    """Deletes the rows of `due` a batch at a time; returns how many."""
    erased = 0
    while ids := await due.limit(BATCH).values_list("id", flat=True):
        # Counted by id: a delete's own count includes the rows it cascades to.
        await model.filter(id__in=ids).delete()
        erased += len(ids)
        await asyncio.sleep(0)  # let requests in between batches
    return erased


async def _per_tenant(setting: str, erase: Callable[[UUID, datetime], Awaitable[int]]) -> int:
    """Runs `erase` for each tenant with the cut-off its `setting` (in days) gives."""
    now = clock.now()
    erased = 0
    for tenant_id, days in await Tenant.all().values_list("id", setting):
        erased += await erase(tenant_id, now - timedelta(days=days))
    return erased


async def purge_deleted_notifications() -> int:
    """Soft-deleted notifications older than each tenant's purge age, once the delivery log
    holds none of their deliveries: the log lives by its own retention."""

    async def erase(tenant_id: UUID, cutoff: datetime) -> int:
        due = Notification.filter(
            tenant_id=tenant_id, deleted_at__lt=cutoff, deliveries__id__isnull=True
        )
        return await _erase(Notification, due)

    return await _per_tenant("purge_deleted_after_days", erase)


async def purge_old_deliveries() -> int:
    """Finished deliveries older than each tenant's log retention."""

    async def erase(tenant_id: UUID, cutoff: datetime) -> int:
        due = Delivery.filter(
            tenant_id=tenant_id,
            created_at__lt=cutoff,
            status__in=FINISHED,
        )
        return await _erase(Delivery, due)

    return await _per_tenant("retention_days", erase)


async def purge_old_events() -> int:
    """Events older than each tenant's retention."""

    async def erase(tenant_id: UUID, cutoff: datetime) -> int:
        return await _erase(Event, Event.filter(tenant_id=tenant_id, created_at__lt=cutoff))

    return await _per_tenant("retention_days", erase)


async def run_once() -> dict[str, int]:
    # Deliveries first: a notification waits for its deliveries to go.
    deliveries = await purge_old_deliveries()
    return {
        "notifications": await purge_deleted_notifications(),
        "deliveries": deliveries,
        "events": await purge_old_events(),
    }


async def run_periodically(interval_seconds: float) -> None:
    await jobs.every(
        interval_seconds,
        _run_and_count,
        runs=metrics.RETENTION_RUNS,
        logger=logger,
        what="retention run",
    )


async def _run_and_count() -> None:
    purged = await run_once()
    if any(purged.values()):
        logger.info("retention purged %s", purged)
    for kind, count in purged.items():
        metrics.RETENTION_PURGED.labels(kind).inc(count)
