from datetime import datetime
from typing import Self, cast

import strawberry
from strawberry.scalars import JSON

from app import models
from app.encoding import JsonValue
from app.graphql.channels import names
from app.graphql.context import Info
from app.graphql.inbox import NotificationAction
from app.graphql.permissions import ForAdmins
from app.graphql.publishing import NotificationActionInput
from app.services import conditions
from app.services import rules as service


@strawberry.type
class Condition:
    field: str
    operator: str
    value: JSON | None


WHO = (
    'External user ids, "role:ADMIN" (everyone with that role), "team:KEY" (the team\'s '
    "members) or addresses"
)
ENDPOINT = f"{names(service.ENDPOINT_CHANNELS)} actions go to the channel's own endpoint"
PERSONAL = names(set(models.Channel) - service.ENDPOINT_CHANNELS)


@strawberry.type(
    description=f"What a matching event sends on one channel. {ENDPOINT}, whatever their "
    "recipients."
)
class Action:
    channel: models.Channel
    recipients: list[str] = strawberry.field(description=f"{WHO}. {ENDPOINT} and ignore them.")
    priority: models.Priority
    tags: list[str]
    actions: list[NotificationAction] = strawberry.field(description="The notification's buttons.")
    expires_in_seconds: int | None
    collapse_key: str | None

    @classmethod
    def from_model(cls, a: models.RuleAction) -> Self:
        return cls(
            channel=a.channel,
            recipients=list(a.recipients),
            priority=a.priority or models.Priority.NORMAL,
            tags=list(a.tags or ()),
            actions=[NotificationAction(**b) for b in a.actions or ()],
            expires_in_seconds=a.expires_in_seconds,
            collapse_key=a.collapse_key,
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
                Condition(field=c.field, operator=c.operator.value, value=cast(JSON, c.value))
                for c in rule.conditions
            ],
            cadence=models.Cadence(rule.cadence),
            actions=[Action.from_model(a) for a in rule.actions],
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
    recipients: list[str] | None = strawberry.field(
        default=None,
        description=f"{WHO}: at least one for {PERSONAL}. {ENDPOINT}: recipients "
        "are ignored there and may be left out or empty.",
    )
    priority: models.Priority | None = None
    tags: list[str] | None = None
    actions: list[NotificationActionInput] | None = strawberry.field(
        default=None, description="The notification's buttons, up to three."
    )
    expires_in_seconds: int | None = strawberry.field(
        default=None, description="Each notification expires this long after it is written."
    )
    collapse_key: str | None = None

    def action(self) -> models.RuleAction:
        return models.RuleAction(
            channel=self.channel,
            recipients=self.recipients or [],
            priority=self.priority,
            tags=self.tags,
            actions=None if self.actions is None else [b.action().as_json() for b in self.actions],
            expires_in_seconds=self.expires_in_seconds,
            collapse_key=self.collapse_key,
        )


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
            conditions.Given(field=c.field, operator=c.operator, value=cast(JsonValue, c.value))
            for c in given.conditions
        ],
        cadence=given.cadence,
        actions=None if given.actions is None else [a.action() for a in given.actions],
    )


@strawberry.type
class RuleQuery:
    @strawberry.field(permission_classes=[ForAdmins])
    async def rules(self, info: Info) -> list[Rule]:
        return [
            Rule.from_model(r) for r in await service.list_rules(tenant_id=info.context.tenant_id)
        ]

    @strawberry.field(permission_classes=[ForAdmins])
    async def rule(self, info: Info, id: strawberry.ID) -> Rule:
        return Rule.from_model(await service.get(tenant_id=info.context.tenant_id, rule_id=id))


@strawberry.type
class RuleMutation:
    @strawberry.mutation(permission_classes=[ForAdmins])
    async def create_rule(self, info: Info, input: RuleInput) -> Rule:
        rule = await service.create(tenant_id=info.context.tenant_id, fields=_fields(input))
        return Rule.from_model(rule)

    @strawberry.mutation(permission_classes=[ForAdmins], description="Fields left out stay.")
    async def update_rule(self, info: Info, id: strawberry.ID, input: RuleUpdateInput) -> Rule:
        rule = await service.update(
            tenant_id=info.context.tenant_id, rule_id=id, fields=_fields(input)
        )
        return Rule.from_model(rule)

    @strawberry.mutation(permission_classes=[ForAdmins], description="Returns the new state.")
    async def toggle_rule(self, info: Info, id: strawberry.ID) -> Rule:
        return Rule.from_model(await service.toggle(tenant_id=info.context.tenant_id, rule_id=id))

    @strawberry.mutation(permission_classes=[ForAdmins])
    async def delete_rule(self, info: Info, id: strawberry.ID) -> bool:
        return await service.delete(tenant_id=info.context.tenant_id, rule_id=id)
