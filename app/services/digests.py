"""Digests: an hourly or daily rule batches its matching events (app.services.digest_windows)
and sends, at the end of the window, one message per recipient with the count and the first
few events.

A digest is claimed by a conditional update, so with any number of workers it goes out once."""

import logging
from datetime import datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from app import clock, jobs, metrics
from app.errors import BelfryError
from app.models import Digest, DigestItem, Rule
from app.services import events, publishing

logger = logging.getLogger("belfry.digests")

SHOWN = 5  # events listed in a digest; the rest are counted
MAX_ATTEMPTS = 3  # runs that may fail to write a digest before it is given up


async def flush_due(*, now: datetime | None = None) -> int:
    """Sends every digest whose window has ended; returns how many this call sent. The claim
    and the deliveries it writes share one transaction: a digest goes out whole, once, to
    every recipient. One that cannot be written is retried at the next runs, then recorded as
    failed; it never holds up the others."""
    now = now or clock.now()
    sent = 0
    due = Digest.filter(window_end__lte=now, flushed_at__isnull=True, failed_at__isnull=True)
    for digest_id in [UUID(str(i)) for i in await due.values_list("id", flat=True)]:
        try:
            sent += await _flush(digest_id, now)
        except Exception as error:  # the next run tries again, up to MAX_ATTEMPTS
            logger.exception("digest %s could not be written", digest_id)
            await _record_failure(digest_id, error, now)
    return sent


async def _flush(digest_id: UUID, now: datetime) -> int:
    async with in_transaction():
        claimed = await Digest.filter(id=digest_id, flushed_at__isnull=True).update(flushed_at=now)
        # Unclaimed: another worker has it.
        written = await _write(await Digest.get(id=digest_id)) if claimed else None
    if written is None:
        return 0
    for each in written:
        await publishing.announce(each)
    return 1


async def _record_failure(digest_id: UUID, error: Exception, now: datetime) -> None:
    reason = str(error) if isinstance(error, BelfryError) else type(error).__name__
    digest = await Digest.get(id=digest_id)
    attempts = digest.attempts + 1
    await Digest.filter(id=digest_id, flushed_at__isnull=True).update(
        attempts=attempts,
        last_error=reason[:500],
        failed_at=now if attempts >= MAX_ATTEMPTS else None,
    )


async def _write(digest: Digest) -> list[publishing.Written]:
    rule = await Rule.get_or_none(id=digest.rule_id)
    items = (
        await DigestItem.filter(digest_id=digest.id)
        .order_by("created_at", "id")
        .prefetch_related("event")
    )
    if rule is None or not items:
        return []
    batched = [item.event for item in items]
    count = len(batched)
    lines = [events.summary(e) for e in batched[:SHOWN]]
    if count > SHOWN:
        lines.append(f"... and {count - SHOWN} more")
    draft = publishing.NotificationDraft(
        category=batched[0].type,
        title=f"{rule.name}: {count} event{'s' if count != 1 else ''}",
        body="\n".join(lines),
        link=next((link for e in batched if (link := events.link_of(e))), None),
        data={"digest": {"count": count, "eventIds": [str(e.id) for e in batched]}},
    )
    return await events.act(rule.tenant_id, rule, draft)


async def run_periodically(interval_seconds: float) -> None:
    await jobs.every(
        interval_seconds,
        _flush_and_count,
        runs=metrics.DIGEST_RUNS,
        logger=logger,
        what="digest run",
    )


async def _flush_and_count() -> None:
    if sent := await flush_due():
        logger.info("sent %d digests", sent)
    metrics.DIGESTS_SENT.inc(sent)
