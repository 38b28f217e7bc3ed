"""Hard-deletes what tenants keep no longer, in small batches so no lock is held for long."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from app.models import Notification, Tenant
from app.services import deliveries, events

logger = logging.getLogger("belfry.retention")

BATCH = 1000


async def purge_deleted_notifications(*, now: datetime | None = None) -> int:
    """Soft-deleted notifications older than each tenant's purge age; returns how many."""
    now = now or datetime.now(UTC)
    purged = 0
    for tenant_id, days in await Tenant.all().values_list("id", "purge_deleted_after_days"):
        due = Notification.filter(tenant_id=tenant_id, deleted_at__lt=now - timedelta(days=days))
        while ids := await due.limit(BATCH).values_list("id", flat=True):
            # Counted by id: the delete's own count includes the deliveries it cascades to.
            await Notification.filter(id__in=ids).delete()
            purged += len(ids)
            await asyncio.sleep(0)  # let requests in between batches
    return purged


async def run_once() -> dict[str, int]:
    return {
        "notifications": await purge_deleted_notifications(),
        "deliveries": await deliveries.purge_old(),
        "events": await events.purge_old(),
    }


async def run_periodically(interval_seconds: float) -> None:
    while True:
        try:
            purged = await run_once()
            if any(purged.values()):
                logger.info("retention purged %s", purged)
        except Exception:  # a failed run is retried at the next interval, never fatal
            logger.exception("retention run failed")
        await asyncio.sleep(interval_seconds)
