"""Tenants' rules: which events notify whom, on which channel, how often.

A rule that could not be evaluated is refused when it is saved, naming the field."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.errors import BadUserInput, NotFound
from app.models import Cadence, Channel, ConditionLogic, Role, Rule
from app.services import conditions
from app.services.validation import CATEGORY_PATTERN, check_length, parse_uuid

ROLE_PREFIX = "role:"


@dataclass(frozen=True, slots=True)
class RuleFields:
    """What a create sets, or an update changes; None means "leave as is"."""

    name: str | None = None
    enabled: bool | None = None
    events: list[str] | None = None
    condition_logic: ConditionLogic | None = None
    conditions: list[dict[str, Any]] | None = None
    cadence: Cadence | None = None
    actions: list[dict[str, Any]] | None = field(default=None)


def _validated(fields: RuleFields) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if fields.name is not None:
        check_length("name", fields.name, 200, required=True)
        values["name"] = fields.name.strip()
    if fields.events is not None:
        _check_events(fields.events)
        values["events"] = list(dict.fromkeys(fields.events))
    if fields.conditions is not None:
        conditions.check(fields.conditions)
        values["conditions"] = fields.conditions
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


def _checked_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not actions:
        raise BadUserInput("actions must name at least one channel", field="actions")
    checked = []
    for index, action in enumerate(actions):
        recipients = action.get("recipients") or []
        if not recipients:
            raise BadUserInput(
                f"actions[{index}].recipients must not be empty",
                field=f"actions[{index}].recipients",
            )
        for recipient in recipients:
            role = recipient.removeprefix(ROLE_PREFIX)
            if recipient.startswith(ROLE_PREFIX) and role not in Role.__members__:
                raise BadUserInput(
                    f"actions[{index}]: {recipient!r} is not one of "
                    + ", ".join(ROLE_PREFIX + r for r in Role.__members__),
                    field=f"actions[{index}].recipients",
                )
            check_length(f"actions[{index}].recipients", recipient, 320, required=True)
        checked.append({"channel": Channel(action["channel"]).value, "recipients": recipients})
    return checked


async def create(*, tenant_id: UUID, fields: RuleFields) -> Rule:
    values = _validated(fields)
    for required in ("name", "events", "actions"):
        if required not in values:
            raise BadUserInput(f"{required} is required", field=required)
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


def matches(rule: Rule, event_type: str, payload: Any) -> bool:
    return conditions.event_matches(rule.events, event_type) and conditions.all_match(
        rule.condition_logic, rule.conditions, payload
    )


async def mark_triggered(rule_ids: list[UUID]) -> None:
    if rule_ids:
        await Rule.filter(id__in=rule_ids).update(last_triggered_at=datetime.now(UTC))
