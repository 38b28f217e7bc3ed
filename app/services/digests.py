"""Digests: an hourly or daily rule batches its matching events and sends, at the end of the
window, one message per recipient with the count and the first few events.

A digest is claimed by a conditional update, so with any number of workers it goes out once."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError

from app.models import Cadence, Digest, DigestItem, Event, Rule
from app.services import events, publishing

logger = logging.getLogger("belfry.digests")

WINDOWS = {Cadence.HOURLY: timedelta(hours=1), Cadence.DAILY: timedelta(days=1)}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SHOWN = 5  # events listed in a digest; the rest are counted


def window_end(cadence: Cadence, at: datetime) -> datetime:
    """The end of the (UTC-aligned) window `at` falls in."""
    size = WINDOWS[cadence]
    return EPOCH + ((at - EPOCH) // size + 1) * size


async def add(*, rule: Rule, event: Event) -> None:
    end = window_end(Cadence(rule.cadence), event.created_at)
    digest = await Digest.get_or_none(rule_id=rule.id, window_end=end)
    if digest is None:
        try:
            digest = await Digest.create(tenant_id=rule.tenant_id, rule_id=rule.id, window_end=end)
        except IntegrityError:  # another event of the window created it
            digest = await Digest.get(rule_id=rule.id, window_end=end)
    await DigestItem.create(digest_id=digest.id, event_id=event.id)


async def flush_due(*, now: datetime | None = None) -> int:
    """Sends every digest whose window has ended; returns how many this call sent."""
    now = now or datetime.now(UTC)
    sent = 0
    for digest_id in await Digest.filter(window_end__lte=now, flushed_at__isnull=True).values_list(
        "id", flat=True
    ):
        claimed = await Digest.filter(id=digest_id, flushed_at__isnull=True).update(flushed_at=now)
        if not claimed:
            continue  # another worker has it
        try:
            await _send(await Digest.get(id=digest_id))
        except Exception:
            # Give it back, so the next run sends it.
            await Digest.filter(id=digest_id).update(flushed_at=None)
            raise
        sent += 1
    return sent


async def _send(digest: Digest) -> None:
    rule = await Rule.get_or_none(id=digest.rule_id)
    items = (
        await DigestItem.filter(digest_id=digest.id)
        .order_by("created_at", "id")
        .prefetch_related("event")
    )
    if rule is None or not items:
        return
    batched = [item.event for item in items]
    count = len(batched)
    lines = [events.summary(e) for e in batched[:SHOWN]]
    if count > SHOWN:
        lines.append(f"... and {count - SHOWN} more")
    link = next(
        (
            e.payload["link"]
            for e in batched
            if isinstance(e.payload, dict) and isinstance(e.payload.get("link"), str)
        ),
        None,
    )
    draft = publishing.NotificationDraft(
        category=batched[0].type,
        title=f"{rule.name}: {count} event{'s' if count != 1 else ''}",
        body="\n".join(lines),
        link=link[:2048] if link else None,
        data={"digest": {"count": count, "eventIds": [str(e.id) for e in batched]}},
    )
    await events.act(rule.tenant_id, rule, draft)


async def run_periodically(interval_seconds: float) -> None:
    while True:
        try:
            if sent := await flush_due():
                logger.info("sent %d digests", sent)
        except Exception:  # retried at the next interval
            logger.exception("digest run failed")
        await asyncio.sleep(interval_seconds)
