"""Sends queued deliveries. The deliveries table is the queue: a claim takes due rows with a
lease (FOR UPDATE SKIP LOCKED on PostgreSQL, so workers never share a row), sending happens
outside any transaction, and a row whose worker died is claimed again once its lease ends."""

import asyncio
import logging
import random
import secrets
from asyncio import FIRST_COMPLETED
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app import clock, logs, metrics
from app.delivery.configs import UNREADABLE, Loaded, load
from app.delivery.providers import REGISTRY
from app.delivery.providers.base import (
    Message,
    SendContext,
    SendResult,
    Target,
    outgoing_client,
)
from app.live.hub import hub as live_hub
from app.live.messages import ALL
from app.live.publish import publish_delivery
from app.live.topics import WORK
from app.models import Channel, Delivery, DeliveryStatus, Priority, Snapshot
from app.settings import Settings
from app.tracing import delivery_attempt

logger = logging.getLogger("belfry.delivery")

CLAIM_BATCH = 50
FINAL = {DeliveryStatus.SENT: "sent", DeliveryStatus.FAILED: "failed"}  # else it goes again
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: DeliveryStatus
    error: str | None
    next_attempt_at: datetime | None


class Worker:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.box = settings.secret_box
        self.context = SendContext(
            http=http,
            allow_private_targets=settings.allow_private_targets,
            timeout=settings.delivery_timeout_seconds,
        )
        self.leases: set[str] = set()  # the claims this worker is sending now

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Works while there is work; otherwise waits for a wake-up or the poll interval.
        Once `stop` is set it claims nothing more and returns after the round in hand."""
        stopping = asyncio.ensure_future(stop.wait())
        async with live_hub().subscription(WORK, ALL) as wake:
            try:
                while not stop.is_set():
                    try:
                        if await self.run_once():
                            continue
                    except Exception:  # keep working; the rows stay claimable
                        logger.exception("delivery round failed")
                    woken = asyncio.ensure_future(wake.get())
                    poll = self.settings.delivery_poll_seconds
                    await asyncio.wait([woken, stopping], timeout=poll, return_when=FIRST_COMPLETED)
                    woken.cancel()
            finally:
                stopping.cancel()

    async def run_once(self, limit: int = CLAIM_BATCH) -> int:
        token = secrets.token_hex(16)
        self.leases.add(token)
        lease = timedelta(seconds=self.settings.delivery_lease_seconds)
        claimed = await claim(limit, lease=lease, token=token)
        # Channel settings are read once per tenant and batch, not once per delivery.
        settings = {
            tenant_id: await load(tenant_id=tenant_id, box=self.box)
            for tenant_id in {d.tenant_id for d in claimed}
        }
        await asyncio.gather(*(self.deliver(d, settings[d.tenant_id]) for d in claimed))
        self.leases.discard(token)  # kept when cut short: the wind-down gives those rows back
        return len(claimed)

    async def deliver(self, delivery: Delivery, settings: dict[Channel, Loaded]) -> None:
        # Each delivery runs in a task of its own (gather above): its log lines carry these.
        logs.request_id.set(delivery.request_id)
        logs.tenant_id.set(str(delivery.tenant_id))
        with delivery_attempt(
            delivery_id=str(delivery.id),
            channel=Channel(delivery.channel).value,
            attempt=delivery.attempt_count,
            trace_parent=delivery.trace_parent,
        ) as attempt:
            try:
                result = await self.send(delivery, settings[Channel(delivery.channel)])
            except Exception as error:  # a provider bug must not lose the row
                logger.exception("delivery %s raised", delivery.id)
                result = SendResult(
                    ok=False, retry=True, error=f"internal error: {type(error).__name__}"
                )
            outcome = self.outcome(delivery, result)
            attempt.ended(outcome.status.value)
            await record(delivery, outcome)
        log_attempt(delivery, outcome)
        status = FINAL.get(outcome.status, "requeued")
        metrics.DELIVERIES.labels(Channel(delivery.channel).value, status).inc()

    async def send(self, delivery: Delivery, loaded: Loaded) -> SendResult:
        channel = Channel(delivery.channel)
        provider = REGISTRY[channel]
        readiness = loaded.readiness
        if not loaded.enabled and not delivery.forced:
            return SendResult(ok=False, error=f"{channel.value} channel is disabled")
        if readiness == UNREADABLE:
            # Another process may hold the key (a rotation under way): try again later.
            return SendResult(ok=False, retry=True, error=readiness.reason)
        if not readiness.ready or loaded.config is None:
            return SendResult(ok=False, error=readiness.reason or "not configured")
        with metrics.SEND_DURATION.labels(channel.value).time():
            result: SendResult = await provider.send(
                message_of(delivery), target_of(delivery), loaded.config, self.context
            )
        return result

    def outcome(self, delivery: Delivery, result: SendResult) -> Outcome:
        if result.ok:
            return Outcome(DeliveryStatus.SENT, None, None)
        if result.retry and delivery.attempt_count < self.settings.delivery_max_attempts:
            return Outcome(
                DeliveryStatus.QUEUED,
                result.error,
                clock.now() + self.backoff(delivery.attempt_count),
            )
        return Outcome(DeliveryStatus.FAILED, result.error, None)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential, with jitter so retries of a burst do not return together."""
        base = self.settings.delivery_backoff_seconds * 2 ** max(0, attempts - 1)
        return min(timedelta(seconds=base * random.uniform(0.5, 1.5)), MAX_BACKOFF)


def log_attempt(delivery: Delivery, outcome: Outcome) -> None:
    """One line per attempt; never the address, the message or the provider's error, which
    may quote a URL that is itself a secret (Slack's, Telegram's)."""
    channel, status = Channel(delivery.channel).value, outcome.status.value
    logger.info(
        "delivery %s over %s: %s after attempt %d",
        delivery.id,
        channel,
        status,
        delivery.attempt_count,
        extra={
            "delivery_id": str(delivery.id),
            "channel": channel,
            "status": status,
            "attempt": delivery.attempt_count,
        },
    )


def message_of(delivery: Delivery) -> Message:
    """The same shape on every channel, from the notification or, for a delivery with none
    behind it, from the snapshot it was written with."""
    n = delivery.notification
    if n is not None:
        shown = Snapshot(
            title=n.title,
            body=n.body,
            link=n.link,
            data=n.data,
            priority=Priority(n.priority).name,
            actions=n.actions or [],
            tags=n.tags or [],
        )
    elif delivery.snapshot is not None:
        shown = delivery.snapshot
    else:
        shown = Snapshot(title=delivery.category)
    return Message(
        delivery_id=str(delivery.id),
        category=delivery.category,
        title=shown.title,
        body=shown.body,
        link=shown.link,
        data=shown.data,
        created_at=delivery.created_at,
        notification_id=str(delivery.notification_id) if delivery.notification_id else None,
        rule_id=str(delivery.rule_id) if delivery.rule_id else None,
        priority=shown.priority,
        actions=shown.actions,
        tags=shown.tags,
    )


def target_of(delivery: Delivery) -> Target:
    """Its recipient, or the raw address it was written for, as its channel finds them."""
    provider = REGISTRY[Channel(delivery.channel)]
    user = delivery.recipient
    return provider.target_of(None if user is None else Target.of(user), delivery.address)


async def claim(limit: int, *, lease: timedelta, token: str | None = None) -> list[Delivery]:
    """Due rows (queued, or held until now), and rows whose lease ran out, leased to this
    call alone. Oldest first: held ones go out in the order they were made."""
    now = clock.now()
    token = token or secrets.token_hex(16)
    waiting = [DeliveryStatus.QUEUED, DeliveryStatus.HELD]
    due = Q(status__in=waiting, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, lease_until__lt=now
    )
    async with in_transaction():
        ids = await (
            Delivery.filter(due)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)
        )
        if not ids:
            return []
        # The condition is repeated so that, where SKIP LOCKED is not available, a row two
        # workers both saw goes to one of them only.
        await Delivery.filter(due, id__in=ids).update(
            status=DeliveryStatus.SENDING,
            lease_until=now + lease,
            lease_token=token,
            attempt_count=F("attempt_count") + 1,
        )
    return await Delivery.filter(lease_token=token, status=DeliveryStatus.SENDING).prefetch_related(
        "notification", "recipient"
    )


async def record(delivery: Delivery, outcome: Outcome) -> None:
    """Only while our lease holds: a row another worker reclaimed is theirs to record."""
    changes = {
        "status": outcome.status,
        "last_error": (outcome.error or "")[:1000] or None,
        "next_attempt_at": outcome.next_attempt_at,
        "sent_at": clock.now() if outcome.status is DeliveryStatus.SENT else None,
    }
    updated = await Delivery.filter(id=delivery.id, lease_token=delivery.lease_token).update(
        **changes, lease_until=None, lease_token=None
    )
    if updated:
        for key, value in changes.items():
            setattr(delivery, key, value)
        await publish_delivery(delivery)


async def release(tokens: set[str]) -> int:
    """Gives rows claimed under `tokens` back to the queue, due now, their attempt undone:
    a send cut short may or may not have arrived, and goes again with the same webhook-id."""
    if not tokens:
        return 0
    return await Delivery.filter(
        lease_token__in=list(tokens), status=DeliveryStatus.SENDING
    ).update(
        status=DeliveryStatus.QUEUED,
        next_attempt_at=clock.now(),
        lease_until=None,
        lease_token=None,
        attempt_count=F("attempt_count") - 1,
    )


async def work(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Sends until `stop` is set or the task is cancelled; then claims nothing more, lets the
    sends in hand finish within the grace period and gives back what is still unsent."""
    stop = stop or asyncio.Event()
    async with outgoing_client() as http:
        worker = Worker(settings, http)
        runner = asyncio.create_task(worker.run_forever(stop), name="delivery")
        try:
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([runner, stopping], return_when=FIRST_COMPLETED)
            stopping.cancel()
        finally:
            stop.set()
            await _wind_down(worker, runner, settings.shutdown_grace_seconds)


async def _wind_down(worker: Worker, runner: asyncio.Task[None], grace: float) -> None:
    await asyncio.wait([runner], timeout=grace)
    if not runner.done():
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        if released := await release(worker.leases):
            logger.warning("gave %d unfinished deliveries back to the queue", released)
    elif not runner.cancelled() and (error := runner.exception()) is not None:
        raise error
