from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from datetime import datetime
from typing import Self
from uuid import UUID

import strawberry
from strawberry.relay import PageInfo

from app import models
from app.auth import Principal, UserPrincipal
from app.graphql.context import Info
from app.graphql.inbox import Notification
from app.graphql.pagination import edges, page_info, page_request
from app.graphql.permissions import ForAdmins, ForTenant
from app.graphql.publishing import LINK
from app.graphql.rendering import renderer_for
from app.live.messages import DeliveryPayload
from app.services import deliveries as service
from app.services import subscriptions, testing
from app.services.validation import parse_id


@strawberry.type
class Delivery:
    id: strawberry.ID
    channel: models.Channel
    status: models.DeliveryStatus
    category: str
    attempt_count: int
    last_error: str | None
    rule_id: strawberry.ID | None
    rule_name: str | None = strawberry.field(description="Null in deliveryStatus events.")
    job_id: str | None
    notification_id: strawberry.ID | None
    notification: Notification | None = strawberry.field(
        description="Null in deliveryStatus events, which carry notificationId."
    )
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def from_model(cls, d: models.Delivery, rule_names: dict[UUID, str] | None = None) -> Self:
        """As a live event shows it, plus what the log joins: the notification, the rule."""
        n = d.notification
        return replace(
            cls.from_payload(DeliveryPayload.of(d)),
            rule_name=(rule_names or {}).get(d.rule_id) if d.rule_id else None,
            notification=Notification.from_model(n) if n is not None else None,
        )

    @classmethod
    def from_payload(cls, d: DeliveryPayload) -> Self:
        return cls(
            id=strawberry.ID(d.id),
            channel=models.Channel(d.channel),
            status=models.DeliveryStatus(d.status),
            category=d.category,
            attempt_count=d.attempt_count,
            last_error=d.last_error,
            rule_id=strawberry.ID(d.rule_id) if d.rule_id else None,
            rule_name=None,
            job_id=d.job_id,
            notification_id=strawberry.ID(d.notification_id) if d.notification_id else None,
            notification=None,
            created_at=d.created_at,
            sent_at=d.sent_at,
            next_attempt_at=d.next_attempt_at,
        )


@strawberry.type
class DeliveryEdge:
    cursor: str
    node: Delivery


@strawberry.type
class DeliveryConnection:
    edges: list[DeliveryEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input
class DeliveryFilter:
    channel: models.Channel | None = None
    status: models.DeliveryStatus | None = None
    category: str | None = None
    rule_id: strawberry.ID | None = None
    notification_id: strawberry.ID | None = None
    job_id: str | None = None
    before: datetime | None = None


@strawberry.input
class DeliveryDeleteFilter:
    status: models.DeliveryStatus | None = None
    rule_id: strawberry.ID | None = None
    before: datetime | None = None


@strawberry.type
class ChannelStatus:
    channel: models.Channel
    ready: bool
    reason: str | None


@strawberry.type
class DispatcherStatus:
    queue_depth: int
    oldest_queued_seconds: float | None
    channels: list[ChannelStatus]


@strawberry.type
class DeletedDeliveries:
    deleted: int
    skipped: int = strawberry.field(
        description="Matching deliveries left alone because they are queued or being sent."
    )


@strawberry.type
class DeliveryQuery:
    @strawberry.field(
        permission_classes=[ForTenant],
        description="The delivery log, newest first; members see their own notifications'.",
    )
    async def deliveries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
        filter: DeliveryFilter | None = None,
    ) -> DeliveryConnection:
        principal = info.context.require_principal()
        f = filter or DeliveryFilter()
        own = _own_only(principal)
        page, total = await service.list_deliveries(
            tenant_id=principal.tenant_id,
            request=page_request(first, after, offset),
            delivery_filter=service.DeliveryFilter(
                channel=f.channel,
                status=f.status,
                category=f.category,
                rule_id=f.rule_id,
                notification_id=f.notification_id,
                job_id=f.job_id,
                before=f.before,
                recipient_id=own,
            ),
        )
        names = await service.rule_names(page.items)
        return DeliveryConnection(
            edges=edges(page, DeliveryEdge, lambda d: Delivery.from_model(d, names)),
            page_info=page_info(page),
            total_count=total,
        )

    @strawberry.field(permission_classes=[ForAdmins])
    async def dispatcher_status(self, info: Info) -> DispatcherStatus:
        status = await service.dispatcher_status(
            tenant_id=info.context.tenant_id, box=info.context.settings.secret_box
        )
        return DispatcherStatus(
            queue_depth=status.queue_depth,
            oldest_queued_seconds=status.oldest_queued_seconds,
            channels=[
                ChannelStatus(channel=c.channel, ready=c.ready, reason=c.reason)
                for c in status.channels
            ],
        )


@strawberry.type
class DeliveryMutation:
    @strawberry.mutation(
        permission_classes=[ForAdmins], description="A FAILED delivery goes back to the queue."
    )
    async def retry_delivery(self, info: Info, id: strawberry.ID) -> Delivery:
        return Delivery.from_model(
            await service.retry(tenant_id=info.context.tenant_id, delivery_id=id)
        )

    @strawberry.mutation(
        permission_classes=[ForAdmins],
        description="Idempotent: an id the log does not have answers true; BAD_USER_INPUT for "
        "an id that is not an id, and for a queued, held or sending delivery, which cannot be "
        "deleted.",
    )
    async def delete_delivery(self, info: Info, id: strawberry.ID) -> bool:
        return await service.delete(tenant_id=info.context.tenant_id, delivery_id=id)

    @strawberry.mutation(permission_classes=[ForAdmins])
    async def delete_deliveries(
        self, info: Info, filter: DeliveryDeleteFilter
    ) -> DeletedDeliveries:
        result = await service.delete_many(
            tenant_id=info.context.tenant_id,
            delivery_filter=service.DeliveryFilter(
                status=filter.status, rule_id=filter.rule_id, before=filter.before
            ),
        )
        return DeletedDeliveries(deleted=result.deleted, skipped=result.skipped)


@strawberry.input
class TestNotificationInput:
    category: str = "billing.low_balance"
    title: str = "Test notification"
    message: str | None = "If you can read this, delivery works."
    link: str | None = strawberry.field(default=None, description=LINK)
    requested_channels: list[models.Channel] | None = strawberry.field(
        default=None, description="Only these channels; preferences still apply."
    )
    force_channels: list[models.Channel] | None = strawberry.field(
        default=None, description="These channels even where preferences switch them off."
    )


@strawberry.type
class TestNotificationPayload:
    job_id: str = strawberry.field(description="Find its deliveries with filter {jobId}.")
    notification_ids: list[strawberry.ID]


@strawberry.type
class TestNotificationMutation:
    @strawberry.mutation(
        permission_classes=[ForTenant],
        description="A user tests on themselves; an API key on the tenant's owners and admins.",
    )
    async def send_test_notification(
        self, info: Info, input: TestNotificationInput | None = None
    ) -> TestNotificationPayload:
        given = input or TestNotificationInput()
        principal = info.context.require_principal()
        job_id, ids = await testing.send_test_notification(
            principal=principal,
            category=given.category,
            title=given.title,
            message=given.message,
            link=given.link,
            requested=set(given.requested_channels) if given.requested_channels else None,
            forced=set(given.force_channels or []),
            box=info.context.settings.secret_box,
        )
        return TestNotificationPayload(
            job_id=job_id, notification_ids=[strawberry.ID(str(i)) for i in ids]
        )


@strawberry.type
class DeliverySubscription:
    @strawberry.subscription(
        permission_classes=[ForTenant],
        description="Each change of a delivery: a member's own, or the tenant's for an owner, "
        "admin or API key. With notificationId, its current deliveries come first.",
    )
    async def delivery_status(
        self,
        info: Info,
        notification_id: strawberry.ID | None = None,
        channel: models.Channel | None = None,
    ) -> AsyncGenerator[Delivery, None]:
        context = info.context
        principal = context.require_principal()
        render = renderer_for(info)
        nid = parse_id(notification_id, "notificationId") if notification_id else None
        seen: Principal | None = principal
        visible = _visible_to(principal)
        async for payload in subscriptions.delivery_events(
            tenant_id=principal.tenant_id,
            recipient_id=_own_only(principal),
            notification_id=nid,
            channel=channel,
        ):
            # Each event as of now: the principal changes with the role, and is None once the
            # socket's credential is gone (app.http.registry).
            if context.principal is not seen:
                seen = context.principal
                visible = _visible_to(seen)
            if visible(payload):
                yield render(Delivery.from_payload(payload))


def _own_only(principal: Principal) -> UUID | None:
    """A member sees the deliveries of their own notifications; others see the tenant's."""
    if isinstance(principal, UserPrincipal) and principal.role is models.Role.MEMBER:
        return principal.user_id
    return None


def _visible_to(principal: Principal | None) -> Callable[[DeliveryPayload], bool]:
    if principal is None:
        return lambda _: False
    own = _own_only(principal)
    if own is None:
        return lambda _: True
    recipient = str(own)
    return lambda payload: payload.recipient_id == recipient
