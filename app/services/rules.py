"""Tenants' rules: which events notify whom, on which channel, how often.

A rule that could not be evaluated is refused when it is saved, naming the field."""

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from tortoise.transactions import in_transaction

from app import clock
from app.delivery.providers import REGISTRY, channels_where
from app.delivery.providers.base import TargetKind
from app.encoding import JsonValue
from app.errors import BadUserInput, NotFound
from app.models import Cadence, Channel, ConditionLogic, Priority, Role, Rule, RuleAction
from app.services import audience, conditions
from app.services.conditions import Given
from app.services.publishing import Action, NotificationDraft
from app.services.validation import (
    CATEGORY_PATTERN,
    check_category,
    check_length,
    distinct_tags,
    parse_uuid,
)

ROLE_PREFIX = "role:"
TEAM_PREFIX = "team:"
# Channels whose endpoint is the channel's own configuration, not a person: their actions
# need no recipients, and ignore any they hold.
ENDPOINT_CHANNELS = channels_where(lambda provider: provider.target_kind is TargetKind.ENDPOINT)
MAX_EXTERNAL_ID = 200  # as publishing takes them
MAX_EMAIL = 320


def is_email(recipient: str) -> bool:
    return "@" in recipient


def is_address(recipient: str) -> bool:
    """A raw address some channel sends to (an email address, a phone number), rather than
    an external user id or a role."""
    return any(provider.recognises(recipient) for provider in REGISTRY.values())


def reaches(channel: Channel, address: str) -> bool:
    """Whether a message on `channel` can go to this raw address."""
    return REGISTRY[channel].recognises(address)


@dataclass(frozen=True, slots=True)
class RuleFields:
    """What a create sets, or an update changes; None means "leave as is"."""

    name: str | None = None
    enabled: bool | None = None
    events: list[str] | None = None
    condition_logic: ConditionLogic | None = None
    conditions: list[Given] | None = None  # checked into Conditions
    cadence: Cadence | None = None
    actions: list[RuleAction] | None = None


def _validated(fields: RuleFields) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if fields.name is not None:
        check_length("name", fields.name, 200, required=True)
        values["name"] = fields.name.strip()
    if fields.events is not None:
        _check_events(fields.events)
        values["events"] = list(dict.fromkeys(fields.events))
    if fields.conditions is not None:
        values["conditions"] = conditions.parse(fields.conditions)
    if fields.actions is not None:
        values["actions"] = _checked_actions(fields.actions)
    for name in ("enabled", "condition_logic", "cadence"):
        if getattr(fields, name) is not None:
            values[name] = getattr(fields, name)
    return values


def _check_events(events: list[str]) -> None:
    if not events:
        raise BadUserInput("events must name at least one event type", field="events")
    for index, pattern in enumerate(events):
        name = pattern.removesuffix(".*")
        if pattern != "*" and not CATEGORY_PATTERN.match(name):
            raise BadUserInput(
                f"events[{index}] {pattern!r} is not an event type, a prefix.* or *",
                field=f"events[{index}]",
            )


def _checked_actions(actions: list[RuleAction]) -> list[RuleAction]:
    if not actions:
        raise BadUserInput("actions must name at least one channel", field="actions")
    checked = []
    for index, action in enumerate(actions):
        channel, recipients = action.channel, action.recipients
        field = f"actions[{index}].recipients"
        if not recipients and channel not in ENDPOINT_CHANNELS:
            raise BadUserInput(
                f"{field} must name someone: a {channel.value} action has no target of its own",
                field=field,
            )
        for recipient in recipients:
            _check_recipient(f"actions[{index}]", channel, recipient)
        checked.append(_checked_look(index, action))
    return checked


MAX_EXPIRY_SECONDS = 366 * 24 * 3600


def _checked_look(index: int, action: RuleAction) -> RuleAction:
    """The action, its notification settings checked as a publish checks them."""
    expiry = action.expires_in_seconds
    if expiry is not None and not 0 < expiry <= MAX_EXPIRY_SECONDS:
        field = f"actions[{index}].expiresInSeconds"
        raise BadUserInput(f"{field} must be between 1 and {MAX_EXPIRY_SECONDS}", field=field)
    if action.tags is not None:
        action = replace(action, tags=list(distinct_tags(action.tags)))
    try:
        draft_look(action).validate()
    except BadUserInput as error:
        field = f"actions[{index}].{error.extensions.get('field', '')}"
        raise BadUserInput(f"actions[{index}]: {error}", field=field) from error
    return action


def draft_look(look: RuleAction) -> NotificationDraft:
    """A draft carrying an action's notification settings (on a placeholder message); its
    expiry counts from now."""
    expiry = look.expires_in_seconds
    expires_at = None if expiry is None else clock.now() + timedelta(seconds=expiry)
    return NotificationDraft(
        category="rule.action",
        title="-",
        priority=look.priority or Priority.NORMAL,
        tags=tuple(look.tags or ()),
        actions=tuple(Action(**a) for a in look.actions or ()),
        expires_at=expires_at,
        collapse_key=look.collapse_key,
    )


def _check_recipient(where: str, channel: Channel, recipient: str) -> None:
    """Refuses what the action could never reach, naming the action and the recipient."""
    field = f"{where}.recipients"
    if recipient.startswith(TEAM_PREFIX):
        check_category(recipient.removeprefix(TEAM_PREFIX), field=field)
        return
    role = recipient.removeprefix(ROLE_PREFIX)
    if recipient.startswith(ROLE_PREFIX) and role not in Role.__members__:
        raise BadUserInput(
            f"{where}: {recipient!r} is not one of "
            + ", ".join(ROLE_PREFIX + r for r in Role.__members__),
            field=field,
        )
    check_length(
        field, recipient, MAX_EMAIL if is_email(recipient) else MAX_EXTERNAL_ID, required=True
    )
    if (
        is_address(recipient)
        and channel not in ENDPOINT_CHANNELS
        and not reaches(channel, recipient)
    ):
        raise BadUserInput(
            f"{where}: a {channel.value} action cannot reach {recipient!r}; "
            "name a user, a role or a team, or use a channel that delivers to that address",
            field=field,
        )


async def _check_teams(tenant_id: UUID, actions: list[RuleAction]) -> None:
    """The teams the actions name are the tenant's (BadUserInput names one that is not). Run
    in the transaction that saves the rule: the teams stay locked until it ends, and
    deleteTeam takes the lock before it looks for rules naming the team."""
    named = [team_keys(action) for action in actions]
    held = await audience.held_teams(tenant_id, {key for keys in named for key in keys})
    for index, keys in enumerate(named):
        if unknown := [key for key in keys if key not in held]:
            raise audience.unknown_teams(unknown, field=f"actions[{index}].recipients")


def team_keys(action: RuleAction) -> list[str]:
    """The keys of the teams an action names."""
    prefixed = (r for r in action.recipients if r.startswith(TEAM_PREFIX))
    return [r.removeprefix(TEAM_PREFIX) for r in prefixed]


async def create(*, tenant_id: UUID, fields: RuleFields) -> Rule:
    values = _validated(fields)
    for required in ("name", "events", "actions"):
        if required not in values:
            raise BadUserInput(f"{required} is required", field=required)
    async with in_transaction():
        await _check_teams(tenant_id, fields.actions or [])
        return await Rule.create(tenant_id=tenant_id, **values)


async def get(*, tenant_id: UUID, rule_id: str) -> Rule:
    rid = parse_uuid(rule_id)
    rule = None if rid is None else await Rule.get_or_none(id=rid, tenant_id=tenant_id)
    if rule is None:
        raise NotFound("Rule not found")
    return rule


async def list_rules(*, tenant_id: UUID) -> list[Rule]:
    return await Rule.filter(tenant_id=tenant_id).order_by("created_at", "id")


async def update(*, tenant_id: UUID, rule_id: str, fields: RuleFields) -> Rule:
    rule = await get(tenant_id=tenant_id, rule_id=rule_id)
    values = _validated(fields)
    async with in_transaction():
        await _check_teams(tenant_id, fields.actions or [])
        if values:
            await Rule.filter(id=rule.id).update(**values)
    await rule.refresh_from_db()
    return rule


async def toggle(*, tenant_id: UUID, rule_id: str) -> Rule:
    rule = await get(tenant_id=tenant_id, rule_id=rule_id)
    await Rule.filter(id=rule.id).update(enabled=not rule.enabled)
    await rule.refresh_from_db()
    return rule


async def delete(*, tenant_id: UUID, rule_id: str) -> bool:
    rule = await get(tenant_id=tenant_id, rule_id=rule_id)
    await rule.delete()
    return True


def matches(rule: Rule, event_type: str, payload: JsonValue) -> bool:
    return conditions.event_matches(rule.events, event_type) and conditions.all_match(
        rule.condition_logic, rule.conditions, payload
    )


async def mark_triggered(rule_ids: list[UUID]) -> None:
    if rule_ids:
        await Rule.filter(id__in=rule_ids).update(last_triggered_at=clock.now())
