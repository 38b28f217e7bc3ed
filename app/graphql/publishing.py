from datetime import datetime
from typing import cast

import strawberry
from strawberry.relay import PageInfo
from strawberry.scalars import JSON

from app.encoding import JsonValue
from app.graphql.context import Info
from app.graphql.pagination import edges, page_info, page_request
from app.graphql.permissions import ForApiKey
from app.graphql.teams import TeamRef
from app.models import Priority
from app.services import events, scheduling
from app.services import publishing as service
from app.services.validation import distinct_tags, parse_id

LINK = 'An absolute http:// or https:// URL, or a path starting with a single "/".'


@strawberry.input
class NotificationActionInput:
    id: str = strawberry.field(
        description="Named by recordNotificationAction; unique per notification."
    )
    label: str
    url: str | None = strawberry.field(default=None, description=LINK)
    primary: bool = False

    def action(self) -> service.Action:
        return service.Action(id=self.id, label=self.label, url=self.url, primary=self.primary)


@strawberry.input
class PublishNotificationInput:
    recipients: list[str] = strawberry.field(default_factory=list, description="External user ids.")
    teams: list[str] | None = strawberry.field(
        default=None,
        description="Team keys: their current members are recipients too, each user once. A "
        "user named directly, or in an earlier team of the list, comes through that.",
    )
    category: str
    title: str
    body: str | None = None
    link: str | None = strawberry.field(default=None, description=LINK)
    data: JSON | None = None
    priority: Priority = Priority.NORMAL
    actions: list[NotificationActionInput] | None = strawberry.field(
        default=None, description="Up to three buttons."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Up to 10, each up to 50 characters; the inbox filters by them."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="Hidden from then on, and later erased."
    )
    collapse_key: str | None = strawberry.field(
        default=None,
        description="Replaces the recipient's latest unread notification with this key and "
        "category, instead of adding one.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key returns the first result."
    )
    send_at: datetime | None = strawberry.field(
        default=None,
        description="Published then, at most a year ahead; until then in no inbox or count, "
        "listed by scheduledNotifications and cancelled by cancelScheduledNotification.",
    )

    def draft(self) -> service.NotificationDraft:
        return service.NotificationDraft(
            category=self.category,
            title=self.title,
            body=self.body,
            link=self.link,
            data=cast(JsonValue, self.data),
            priority=self.priority,
            actions=tuple(a.action() for a in self.actions or ()),
            tags=distinct_tags(self.tags or ()),
            expires_at=self.expires_at,
            collapse_key=self.collapse_key,
        )


@strawberry.type
class PublishPayload:
    count: int
    notification_ids: list[strawberry.ID]
    duplicate: bool

    @classmethod
    def from_result(cls, result: service.PublishResult) -> "PublishPayload":
        return cls(
            count=result.count,
            notification_ids=[strawberry.ID(str(i)) for i in result.notification_ids],
            duplicate=result.duplicate,
        )


@strawberry.type
class PublishingMutation:
    @strawberry.mutation(permission_classes=[ForApiKey])
    async def publish_notification(
        self, info: Info, input: PublishNotificationInput
    ) -> PublishPayload:
        result = await scheduling.publish_at(
            tenant_id=info.context.api_key.tenant_id,
            recipients=input.recipients,
            draft=input.draft(),
            send_at=input.send_at,
            teams=input.teams,
            idempotency_key=input.idempotency_key,
        )
        return PublishPayload.from_result(result)

    @strawberry.mutation(
        permission_classes=[ForApiKey],
        description="Cancels a notification published with a sendAt; false if it already went, "
        "NOT_FOUND if the tenant has no such notification, BAD_USER_INPUT for an id that is not "
        "an id.",
    )
    async def cancel_scheduled_notification(self, info: Info, id: strawberry.ID) -> bool:
        return await scheduling.cancel(
            tenant_id=info.context.api_key.tenant_id, notification_id=parse_id(id)
        )


@strawberry.type
class ScheduledNotification:
    id: strawberry.ID = strawberry.field(description="The id the notification will have.")
    recipient: str = strawberry.field(description="The external user id.")
    category: str
    title: str
    body: str | None
    priority: Priority
    send_at: datetime
    created_at: datetime
    team: TeamRef | None = strawberry.field(
        description="The team the recipient was reached through; null when named directly."
    )

    @classmethod
    def from_model(cls, pending: scheduling.Pending) -> "ScheduledNotification":
        draft = pending.draft
        return cls(
            id=strawberry.ID(str(pending.row.id)),
            recipient=pending.recipient,
            category=draft.category,
            title=draft.title,
            body=draft.body,
            priority=draft.priority,
            send_at=pending.row.send_at,
            created_at=pending.row.created_at,
            team=TeamRef.of(pending.row.team),
        )


@strawberry.type
class ScheduledNotificationEdge:
    cursor: str
    node: ScheduledNotification


@strawberry.type
class ScheduledNotificationConnection:
    edges: list[ScheduledNotificationEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class ScheduledQuery:
    @strawberry.field(
        permission_classes=[ForApiKey],
        description="Notifications published with a sendAt still to come, the next first.",
    )
    async def scheduled_notifications(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ScheduledNotificationConnection:
        page, total = await scheduling.pending(
            tenant_id=info.context.api_key.tenant_id,
            request=page_request(first, after),
        )
        return ScheduledNotificationConnection(
            edges=edges(page, ScheduledNotificationEdge, ScheduledNotification.from_model),
            page_info=page_info(page),
            total_count=total,
        )


@strawberry.input
class PublishEventInput:
    type: str = strawberry.field(description="e.g. auth.login_failed")
    payload: JSON | None = None
    recipients: list[str] | None = strawberry.field(
        default=None, description="Stored with the event; rules name who is notified."
    )
    actor: str | None = None
    idempotency_key: str | None = None


@strawberry.type
class EventMutation:
    @strawberry.mutation(
        permission_classes=[ForApiKey], description="Store an event and run the tenant's rules."
    )
    async def publish_event(self, info: Info, input: PublishEventInput) -> PublishPayload:
        result = await events.publish_event(
            tenant_id=info.context.api_key.tenant_id,
            type=input.type,
            payload=cast(JsonValue, input.payload),
            recipients=input.recipients,
            actor=input.actor,
            idempotency_key=input.idempotency_key,
        )
        return PublishPayload(
            count=len(result.notification_ids) + result.deliveries,
            notification_ids=[strawberry.ID(str(i)) for i in result.notification_ids],
            duplicate=result.duplicate,
        )
