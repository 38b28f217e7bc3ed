from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from app.graphql.context import Info
from app.graphql.permissions import Allowed
from app.models import Priority
from app.services import events
from app.services import publishing as service
from app.services.validation import distinct_tags


@strawberry.input
class NotificationActionInput:
    id: str = strawberry.field(
        description="Named by recordNotificationAction; unique per notification."
    )
    label: str
    url: str | None = None
    primary: bool = False


@strawberry.input
class PublishNotificationInput:
    recipients: list[str] = strawberry.field(description="External user ids.")
    category: str
    title: str
    body: str | None = None
    link: str | None = None
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
    @strawberry.mutation(permission_classes=[Allowed])
    async def publish_notification(
        self, info: Info, input: PublishNotificationInput
    ) -> PublishPayload:
        draft = service.NotificationDraft(
            category=input.category,
            title=input.title,
            body=input.body,
            link=input.link,
            data=cast(dict[str, Any] | list[Any] | None, input.data),
            priority=input.priority,
            actions=tuple(
                service.Action(id=a.id, label=a.label, url=a.url, primary=a.primary)
                for a in input.actions or ()
            ),
            tags=distinct_tags(input.tags or ()),
            expires_at=input.expires_at,
            collapse_key=input.collapse_key,
        )
        result = await service.publish_notification(
            tenant_id=info.context.api_key.tenant_id,
            recipients=input.recipients,
            draft=draft,
            idempotency_key=input.idempotency_key,
        )
        return PublishPayload.from_result(result)


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
        permission_classes=[Allowed], description="Store an event and run the tenant's rules."
    )
    async def publish_event(self, info: Info, input: PublishEventInput) -> PublishPayload:
        result = await events.publish_event(
            tenant_id=info.context.api_key.tenant_id,
            type=input.type,
            payload=input.payload,
            recipients=input.recipients,
            actor=input.actor,
            idempotency_key=input.idempotency_key,
        )
        return PublishPayload(
            count=len(result.notification_ids) + result.deliveries,
            notification_ids=[strawberry.ID(str(i)) for i in result.notification_ids],
            duplicate=result.duplicate,
        )
