"""The inbox's clock: snoozed notifications come back at their time, expired ones go. Runs in
every worker; each notification changes once however many run (inbox.change_due)."""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from app import metrics
from app.live.messages import InboxEventKind
from app.models import Notification
from app.services.inbox_changes import change_due

logger = logging.getLogger("belfry.inbox_clock")

BATCH = 500  # notifications a run looks at, per kind


async def resurface_snoozed() -> int:
    now = datetime.now(UTC)
    due = Notification.filter(snoozed_until__lte=now, deleted_at__isnull=True)

    def back(n: Notification, at: datetime) -> dict[str, Any]:
        return {"snoozed_until": None}

    changed = await change_due(_first(due), back, InboxEventKind.RESURFACED)
    return len(changed)


async def delete_expired() -> int:
    """Lists hide an expired notification at once; this takes it out of the counters, and
    retention erases it with the other deleted ones."""
    now = datetime.now(UTC)
    due = Notification.filter(expires_at__lte=now, deleted_at__isnull=True)

    def gone(n: Notification, at: datetime) -> dict[str, Any]:
        return {"deleted_at": at}

    changed = await change_due(_first(due), gone, InboxEventKind.EXPIRED)
    return len(changed)


def _first(due: Any) -> Any:
    return due.order_by("id").limit(BATCH)


async def run_once() -> dict[str, int]:
    return {"resurfaced": await resurface_snoozed(), "expired": await delete_expired()}


async def run_periodically(interval_seconds: float) -> None:
    while True:
        try:
            done = await run_once()
        except Exception:  # retried at the next interval
            logger.exception("inbox clock run failed")
            metrics.INBOX_CLOCK_RUNS.labels("error").inc()
        else:
            metrics.INBOX_CLOCK_RUNS.labels("ok").inc()
            if any(done.values()):
                logger.info("inbox clock: %s", done)
        await asyncio.sleep(interval_seconds)
