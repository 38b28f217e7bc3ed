from datetime import datetime
from typing import Any, Self, cast

import strawberry
from strawberry.scalars import JSON

from app import models
from app.graphql.context import Info
from app.graphql.permissions import Allowed
from app.services import rules as service

strawberry.enum(models.ConditionLogic)
strawberry.enum(models.Cadence)


@strawberry.type
class Condition:
    field: str
    operator: str
    value: JSON | None


@strawberry.type
class Action:
    channel: models.Channel
    recipients: list[str] = strawberry.field(
        description='External user ids, "role:ADMIN" (everyone with that role), or addresses.'
    )


@strawberry.type
class Rule:
    id: strawberry.ID
    name: str
    enabled: bool
    events: list[str]
    condition_logic: models.ConditionLogic
    conditions: list[Condition]
    cadence: models.Cadence
    actions: list[Action]
    created_at: datetime
    last_triggered_at: datetime | None

    @classmethod
    def from_model(cls, rule: models.Rule) -> Self:
        return cls(
            id=strawberry.ID(str(rule.id)),
            name=rule.name,
            enabled=rule.enabled,
            events=list(rule.events),
            condition_logic=models.ConditionLogic(rule.condition_logic),
            conditions=[
                Condition(field=c["field"], operator=c["operator"], value=c.get("value"))
                for c in rule.conditions
            ],
            cadence=models.Cadence(rule.cadence),
            actions=[
                Action(channel=models.Channel(a["channel"]), recipients=list(a["recipients"]))
                for a in rule.actions
            ],
            created_at=rule.created_at,
            last_triggered_at=rule.last_triggered_at,
        )


@strawberry.input
class ConditionInput:
    field: str
    operator: str = strawberry.field(
        description="eq neq in not_in contains starts_with gt gte lt lte exists; in and not_in "
        "also take CIDR ranges for IP addresses."
    )
    value: JSON | None = None


@strawberry.input
class ActionInput:
    channel: models.Channel
    recipients: list[str]


@strawberry.input
class RuleInput:
    name: str
    events: list[str] = strawberry.field(description='Event types, "prefix.*" or "*".')
    actions: list[ActionInput]
    enabled: bool | None = None
    condition_logic: models.ConditionLogic | None = None
    conditions: list[ConditionInput] | None = None
    cadence: models.Cadence | None = None


@strawberry.input
class RuleUpdateInput:
    name: str | None = None
    events: list[str] | None = None
    actions: list[ActionInput] | None = None
    enabled: bool | None = None
    condition_logic: models.ConditionLogic | None = None
    conditions: list[ConditionInput] | None = None
    cadence: models.Cadence | None = None


def _fields(given: RuleInput | RuleUpdateInput) -> service.RuleFields:
    return service.RuleFields(
        name=given.name,
        enabled=given.enabled,
        events=given.events,
        condition_logic=given.condition_logic,
        conditions=None
        if given.conditions is None
        else [
            {"field": c.field, "operator": c.operator, "value": cast(Any, c.value)}
            for c in given.conditions
        ],
        cadence=given.cadence,
        actions=None
        if given.actions is None
        else [{"channel": a.channel, "recipients": a.recipients} for a in given.actions],
    )


@strawberry.type
class RuleQuery:
    @strawberry.field(permission_classes=[Allowed])
    async def rules(self, info: Info) -> list[Rule]:
        return [
            Rule.from_model(r) for r in await service.list_rules(tenant_id=info.context.tenant_id)
        ]

    @strawberry.field(permission_classes=[Allowed])
    async def rule(self, info: Info, id: strawberry.ID) -> Rule:
        return Rule.from_model(await service.get(tenant_id=info.context.tenant_id, rule_id=id))


@strawberry.type
class RuleMutation:
    @strawberry.mutation(permission_classes=[Allowed])
    async def create_rule(self, info: Info, input: RuleInput) -> Rule:
        rule = await service.create(tenant_id=info.context.tenant_id, fields=_fields(input))
        return Rule.from_model(rule)

    @strawberry.mutation(permission_classes=[Allowed], description="Fields left out stay.")
    async def update_rule(self, info: Info, id: strawberry.ID, input: RuleUpdateInput) -> Rule:
        rule = await service.update(
            tenant_id=info.context.tenant_id, rule_id=id, fields=_fields(input)
        )
        return Rule.from_model(rule)

    @strawberry.mutation(permission_classes=[Allowed], description="Returns the new state.")
    async def toggle_rule(self, info: Info, id: strawberry.ID) -> Rule:
        return Rule.from_model(await service.toggle(tenant_id=info.context.tenant_id, rule_id=id))

    @strawberry.mutation(permission_classes=[Allowed])
    async def delete_rule(self, info: Info, id: strawberry.ID) -> bool:
        return await service.delete(tenant_id=info.context.tenant_id, rule_id=id)
