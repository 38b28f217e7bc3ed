"""The inbox's clock: snoozed notifications come back at their time, expired ones go. Runs in
every worker; each notification changes once however many run (inbox.change_due)."""

import logging
from datetime import datetime

from app import clock, jobs, metrics
from app.live.messages import InboxEventKind
from app.models import Notification
from app.services.inbox_changes import Changes, Columns, change_due

logger = logging.getLogger("belfry.inbox_clock")

BATCH = 500  # notifications a run looks at, per kind


async def resurface_snoozed() -> int:
    def back(n: Notification, at: datetime) -> Columns:
        return {"snoozed_until": None}

    return await _change("snoozed_until", back, InboxEventKind.RESURFACED)


async def delete_expired() -> int:
    """Lists hide an expired notification at once; this takes it out of the counters, and
    retention erases it with the other deleted ones."""

    def gone(n: Notification, at: datetime) -> Columns:
        return {"deleted_at": at}

    return await _change("expires_at", gone, InboxEventKind.EXPIRED)


async def _change(due_by: str, changes: Changes, kind: InboxEventKind) -> int:
    """The first BATCH undeleted notifications whose `due_by` time has come, changed."""
    due = Notification.filter(**{f"{due_by}__lte": clock.now()}, deleted_at__isnull=True)
    return len(await change_due(due.order_by("id").limit(BATCH), changes, kind))


async def run_once() -> dict[str, int]:
    return {"resurfaced": await resurface_snoozed(), "expired": await delete_expired()}


async def run_periodically(interval_seconds: float) -> None:
    await jobs.every(
        interval_seconds,
        _run_and_log,
        runs=metrics.INBOX_CLOCK_RUNS,
        logger=logger,
        what="inbox clock run",
    )


async def _run_and_log() -> None:
    if any((done := await run_once()).values()):
        logger.info("inbox clock: %s", done)
