"""A rule of hourly or daily cadence collects its matching events in a digest, one for each
(UTC-aligned) window, which app.services.digests sends once the window has ended."""

from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.models import Cadence, Digest, DigestItem, Event, Rule

WINDOWS = {Cadence.HOURLY: timedelta(hours=1), Cadence.DAILY: timedelta(days=1)}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_end(cadence: Cadence, at: datetime) -> datetime:
    """The end of the (UTC-aligned) window `at` falls in."""
    size = WINDOWS[cadence]
    return EPOCH + ((at - EPOCH) // size + 1) * size


async def add(*, rule: Rule, event: Event) -> None:
    """Inside the event's transaction."""
    end = window_end(Cadence(rule.cadence), event.created_at)
    digest = await Digest.get_or_none(rule_id=rule.id, window_end=end)
    if digest is None:
        try:
            async with in_transaction():  # a savepoint: losing the race must not abort the event
                digest = await Digest.create(
                    tenant_id=rule.tenant_id, rule_id=rule.id, window_end=end
                )
        except IntegrityError:  # another event of the window created it
            digest = await Digest.get(rule_id=rule.id, window_end=end)
    await DigestItem.create(digest_id=digest.id, event_id=event.id)
