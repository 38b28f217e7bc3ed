"""Events from the tenant's product, matched against its rules.

A match produces notifications through the same publishing service as any other, so
preferences, rate limits, the delivery log and live events all apply; each delivery records
its rule. A raw address in a rule (an email, a phone number) gets a delivery of its own, and
a webhook, Slack or Telegram action goes to the channel's configured endpoint."""

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from tortoise.exceptions import IntegrityError

from app import pubsub
from app.db import bulk_insert
from app.models import (
    Cadence,
    Channel,
    Delivery,
    DeliveryStatus,
    Event,
    EventCategory,
    Role,
    Rule,
    User,
)
from app.services import digests, publishing, rules
from app.services.validation import check_category, check_length

EVENTS_GROUP = "Events"
# Channels whose endpoint is the channel's own configuration, not a person.
ENDPOINT_CHANNELS = {Channel.WEBHOOK, Channel.SLACK, Channel.TELEGRAM}


@dataclass(frozen=True, slots=True)
class EventResult:
    notification_ids: list[UUID]
    deliveries: int
    duplicate: bool


async def publish_event(
    *,
    tenant_id: UUID,
    type: str,
    payload: Any,
    recipients: list[str] | None,
    actor: str | None,
    idempotency_key: str | None,
) -> EventResult:
    check_category(type, field="type")
    if idempotency_key is not None:
        check_length("idempotencyKey", idempotency_key, 200, required=True)
        earlier = await Event.get_or_none(tenant_id=tenant_id, idempotency_key=idempotency_key)
        if earlier is not None:
            return EventResult([UUID(i) for i in earlier.notification_ids], 0, duplicate=True)
    try:
        event = await Event.create(
            tenant_id=tenant_id,
            type=type,
            payload=payload,
            recipients=recipients,
            actor=actor,
            idempotency_key=idempotency_key,
        )
    except IntegrityError:  # a concurrent retry stored it first
        earlier = await Event.get(tenant_id=tenant_id, idempotency_key=idempotency_key)
        return EventResult([UUID(i) for i in earlier.notification_ids], 0, duplicate=True)
    matched = [
        rule
        for rule in await Rule.filter(tenant_id=tenant_id, enabled=True)
        if rules.matches(rule, type, payload)
    ]
    ids: list[UUID] = []
    direct = 0
    for rule in matched:
        if rule.cadence != Cadence.INSTANT:
            await digests.add(rule=rule, event=event)
            continue
        draft = publishing.NotificationDraft(
            category=event.type, title=rule.name, body=summary(event), data=event.payload
        )
        made, sent = await act(tenant_id, rule, draft)
        ids += made
        direct += sent
    await rules.mark_triggered([rule.id for rule in matched])
    await Event.filter(id=event.id).update(notification_ids=[str(i) for i in ids])
    return EventResult(ids, direct, duplicate=False)


async def act(
    tenant_id: UUID, rule: Rule, draft: publishing.NotificationDraft
) -> tuple[list[UUID], int]:
    """Every action of the rule, with this message. Returns the notifications made for users
    and how many direct deliveries were queued."""
    await _ensure_category(tenant_id, draft.category)
    made: list[UUID] = []
    sent = 0
    for action in rule.actions:
        channel = Channel(action["channel"])
        users, addresses = await _split(tenant_id, action["recipients"])
        if users and channel not in ENDPOINT_CHANNELS:
            result = await publishing.publish_notification(
                tenant_id=tenant_id,
                recipients=users,
                draft=draft,
                routing=publishing.Routing(requested={Channel.IN_APP, channel}, rule_id=rule.id),
            )
            made += result.notification_ids
        if channel in ENDPOINT_CHANNELS:
            targets: list[dict[str, Any]] = [{}]
        else:
            targets = [t for t in (_address(channel, a) for a in addresses) if t is not None]
        sent += await _direct(tenant_id, rule, channel, draft, targets)
    return made, sent


async def _split(tenant_id: UUID, recipients: list[str]) -> tuple[list[str], list[str]]:
    """External user ids (roles expanded to their current members), and raw addresses."""
    users: list[str] = []
    addresses: list[str] = []
    for recipient in recipients:
        if recipient.startswith(rules.ROLE_PREFIX):
            role = Role(recipient.removeprefix(rules.ROLE_PREFIX))
            members = await User.filter(tenant_id=tenant_id, role=role).values_list(
                "external_id", flat=True
            )
            users += [str(m) for m in members]
        elif "@" in recipient or recipient.lstrip("+").isdigit():
            addresses.append(recipient)
        else:
            users.append(recipient)
    return list(dict.fromkeys(users)), addresses


def _address(channel: Channel, address: str) -> dict[str, str] | None:
    if channel is Channel.EMAIL and "@" in address:
        return {"email": address}
    if channel is Channel.SMS and "@" not in address:
        return {"phone": address}
    return None  # an address that this channel cannot use


async def _direct(
    tenant_id: UUID,
    rule: Rule,
    channel: Channel,
    draft: publishing.NotificationDraft,
    targets: list[dict[str, Any]],
) -> int:
    """Deliveries with no user behind them: raw addresses and channel endpoints."""
    if not targets:
        return 0
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid4(),
            "tenant_id": tenant_id,
            "channel": channel,
            "category": draft.category,
            "status": DeliveryStatus.QUEUED,
            "attempt_count": 0,
            "next_attempt_at": now,
            "rule_id": rule.id,
            "target": {**target, "title": draft.title, "body": draft.body},
            "created_at": now,
        }
        for target in targets
    ]
    await bulk_insert(Delivery, rows)
    await pubsub.wake_workers()
    return len(rows)


async def _ensure_category(tenant_id: UUID, key: str) -> None:
    """An event type a rule acts on joins the catalogue, so preferences can switch it."""
    if not await EventCategory.exists(tenant_id=tenant_id, key=key):
        with contextlib.suppress(IntegrityError):  # created meanwhile
            await EventCategory.create(
                tenant_id=tenant_id,
                key=key,
                group=EVENTS_GROUP,
                description="Raised by rules",
                default_channels=[c.value for c in Channel],
            )


def summary(event: Event) -> str:
    if not isinstance(event.payload, dict) or not event.payload:
        return event.type
    shown = ", ".join(f"{k}: {v}" for k, v in list(event.payload.items())[:5])
    return f"{event.type} ({shown})"
