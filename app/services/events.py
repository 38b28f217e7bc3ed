"""Events from the tenant's product, matched against its rules.

A match is written through the same publishing path as any notification, so preferences,
rate limits, the delivery log and live events all apply; each delivery records its rule. A
raw address in a rule (an email, a phone number) and a webhook, Slack or Telegram action
(the channel's configured endpoint) are direct targets of that same publish."""

from dataclasses import dataclass, replace
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import clock
from app.encoding import JsonValue
from app.models import Cadence, Channel, Event, Role, Rule, User
from app.services import audience, catalog, digest_windows, publishing, rules
from app.services.routing import Direct
from app.services.validation import check_category, check_kept_json, check_length, is_safe_link

# An event type a rule acts on joins the catalogue, so preferences can switch it; its rules
# pick the channels.
EVENT_TYPE = catalog.Joining("Events", "Raised by rules", tuple(Channel))


ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class EventResult:
    notification_ids: list[UUID]
    deliveries: int  # direct ones: to raw addresses and channel endpoints
    duplicate: bool


async def publish_event(
    *,
    tenant_id: UUID,
    type: str,
    payload: JsonValue,
    recipients: list[str] | None,
    actor: str | None,
    idempotency_key: str | None,
) -> EventResult:
    """Stores the event and runs every matching rule, all in one transaction: an event that
    fails (a rule's action that cannot be published, say) leaves nothing behind and can be
    sent again with the same idempotency key. A replay returns the first result."""
    check_category(type, field="type")
    check_length("actor", actor or "", 200)
    check_kept_json("payload", payload)
    if idempotency_key is not None:
        check_length("idempotencyKey", idempotency_key, 200, required=True)
        if earlier := await _earlier_result(tenant_id, idempotency_key):
            return earlier
    for attempt in range(ATTEMPTS):
        try:
            async with in_transaction():
                event = await Event.create(
                    tenant_id=tenant_id,
                    type=type,
                    payload=payload,
                    recipients=recipients,
                    actor=actor,
                    idempotency_key=idempotency_key,
                    created_at=clock.now(),  # its digest window and retention count from it
                )
                written = await _run_rules(tenant_id, event)
                ids = [i for w in written for i in w.notification_ids]
                direct = sum(w.direct_deliveries for w in written)
                await Event.filter(id=event.id).update(
                    notification_ids=[str(i) for i in ids], direct_deliveries=direct
                )
            for each in written:
                await publishing.announce(each)
            return EventResult(ids, direct, duplicate=False)
        except IntegrityError:
            # A concurrent retry stored the event first, or created one of our new recipients.
            if idempotency_key and (earlier := await _earlier_result(tenant_id, idempotency_key)):
                return earlier
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _earlier_result(tenant_id: UUID, idempotency_key: str) -> EventResult | None:
    earlier = await Event.get_or_none(tenant_id=tenant_id, idempotency_key=idempotency_key)
    if earlier is None:
        return None
    ids = [UUID(i) for i in earlier.notification_ids]
    return EventResult(ids, earlier.direct_deliveries, duplicate=True)


async def _run_rules(tenant_id: UUID, event: Event) -> list[publishing.Written]:
    matched = [
        rule
        for rule in await Rule.filter(tenant_id=tenant_id, enabled=True)
        if rules.matches(rule, event.type, event.payload)
    ]
    written: list[publishing.Written] = []
    for rule in matched:
        if rule.cadence != Cadence.INSTANT:
            await digest_windows.add(rule=rule, event=event)
        else:
            written += await act(tenant_id, rule, draft_for(rule, event))
    await rules.mark_triggered([rule.id for rule in matched])
    return written


def draft_for(rule: Rule, event: Event) -> publishing.NotificationDraft:
    """What an instant rule sends for one event."""
    return publishing.NotificationDraft(
        category=event.type,
        title=rule.name,
        body=summary(event),
        link=link_of(event),
        data=event.payload,
    )


def link_of(event: Event) -> str | None:
    """`payload.link`, where the event carries one a publish would take; an unsafe one is
    left out rather than holding the event's notifications back."""
    payload = event.payload
    link = payload.get("link") if isinstance(payload, dict) else None
    return link if isinstance(link, str) and is_safe_link(link) else None


async def act(
    tenant_id: UUID, rule: Rule, draft: publishing.NotificationDraft
) -> list[publishing.Written]:
    """Writes every action of the rule with this message, inside the caller's transaction;
    the caller announces what was written once it commits."""
    draft.validate()
    category = await catalog.joined(tenant_id=tenant_id, key=draft.category, joining=EVENT_TYPE)
    written = []
    for action in rule.actions:
        channel = action.channel
        direct: tuple[Direct, ...]
        if channel in rules.ENDPOINT_CHANNELS:
            reached, direct = audience.Audience([]), (Direct(channel),)
        else:
            reached, addresses = await _split(tenant_id, action.recipients)
            direct = tuple(Direct(channel, a) for a in addresses if rules.reaches(channel, a))
        if not reached.external_ids and not direct:
            continue
        routing = publishing.Routing(
            requested={Channel.IN_APP, channel}, rule_id=rule.id, direct=direct
        )
        look = rules.draft_look(action)
        written.append(
            await publishing.write(
                tenant_id=tenant_id,
                reached=reached,
                draft=replace(
                    draft,
                    priority=look.priority,
                    tags=look.tags,
                    actions=look.actions,
                    expires_at=look.expires_at,
                    collapse_key=look.collapse_key,
                ).without_unsafe_links(),
                category=category,
                routing=routing,
            )
        )
    return written


async def _split(tenant_id: UUID, recipients: list[str]) -> tuple[audience.Audience, list[str]]:
    """The users reached (roles and teams expanded to their current members), and raw
    addresses."""
    users: list[str] = []
    teams: list[str] = []
    addresses: list[str] = []
    for recipient in recipients:
        if recipient.startswith(rules.TEAM_PREFIX):
            teams.append(recipient.removeprefix(rules.TEAM_PREFIX))
        elif recipient.startswith(rules.ROLE_PREFIX):
            role = Role(recipient.removeprefix(rules.ROLE_PREFIX))
            members = await User.filter(tenant_id=tenant_id, role=role).values_list(
                "external_id", flat=True
            )
            users += [str(m) for m in members]
        elif rules.is_address(recipient):
            addresses.append(recipient)
        else:
            users.append(recipient)
    return await audience.of(tenant_id, users, teams, required=False), addresses


def summary(event: Event) -> str:
    if not isinstance(event.payload, dict) or not event.payload:
        return event.type
    shown = ", ".join(f"{k}: {v}" for k, v in list(event.payload.items())[:5])
    return f"{event.type} ({shown})"
