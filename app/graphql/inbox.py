from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry.relay import PageInfo
from strawberry.scalars import JSON

from app import models
from app.graphql.context import Info
from app.graphql.pagination import edges, page_info, page_request
from app.graphql.permissions import ForUsers
from app.graphql.rendering import renderer_for
from app.graphql.teams import TeamRef
from app.live.messages import ActionPayload, InboxEventKind, NotificationPayload
from app.live.streams import Badge
from app.services import inbox as service
from app.services import inbox_changes as changes
from app.services import subscriptions


@strawberry.type
class NotificationAction:
    id: str
    label: str
    url: str | None
    primary: bool

    @classmethod
    def of(cls, action: dict[str, Any] | ActionPayload) -> Self:
        """From a stored action (JSON) or a live one."""
        if isinstance(action, ActionPayload):
            return cls(id=action.id, label=action.label, url=action.url, primary=action.primary)
        return cls(**action)


@strawberry.type
class Notification:
    id: strawberry.ID
    category: str
    title: str
    body: str | None
    link: str | None
    data: JSON | None
    priority: models.Priority
    actions: list[NotificationAction]
    tags: list[str]
    is_read: bool
    read_at: datetime | None
    is_seen: bool = strawberry.field(description="Read implies seen.")
    seen_at: datetime | None
    is_archived: bool
    archived_at: datetime | None
    interacted_at: datetime | None = strawberry.field(description="When an action was taken.")
    snoozed_until: datetime | None
    expires_at: datetime | None = strawberry.field(description="Hidden from then on.")
    collapse_key: str | None
    occurrences: int = strawberry.field(description="Publishes collapsed into this one.")
    created_at: datetime = strawberry.field(description="Its latest occurrence's time.")
    team: TeamRef | None = strawberry.field(
        description="The team the recipient was reached through, as named at publish time; "
        "null when named directly."
    )

    @classmethod
    def from_model(cls, n: models.Notification | NotificationPayload) -> Self:
        """From a stored notification or a live one (the same attributes)."""
        return cls(
            id=strawberry.ID(str(n.id)),
            category=n.category,
            title=n.title,
            body=n.body,
            link=n.link,
            data=n.data,
            priority=n.priority,
            actions=[NotificationAction.of(a) for a in n.actions or ()],
            tags=n.tags or [],
            is_read=n.read_at is not None,
            read_at=n.read_at,
            is_seen=n.seen_at is not None,
            seen_at=n.seen_at,
            is_archived=n.archived_at is not None,
            archived_at=n.archived_at,
            interacted_at=n.interacted_at,
            snoozed_until=n.snoozed_until,
            expires_at=n.expires_at,
            collapse_key=n.collapse_key,
            occurrences=n.occurrences,
            created_at=n.created_at,
            team=TeamRef.of(n.team),
        )


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Notifications matching the filter.")
    unread_count: int = strawberry.field(description="The viewer's unread total.")

    @classmethod
    def from_page(cls, result: service.InboxPage) -> Self:
        page = result.page
        return cls(
            edges=edges(page, NotificationEdge, Notification.from_model),
            page_info=page_info(page),
            total_count=result.total_count,
            unread_count=result.unread_count,
        )


@strawberry.input
class NotificationFilter:
    read_state: service.ReadState = service.ReadState.ALL
    categories: list[str] | None = None
    archived: service.ArchiveFilter = service.ArchiveFilter.EXCLUDE
    priorities: list[models.Priority] | None = strawberry.field(default=None, description="Any of.")
    tags: list[str] | None = strawberry.field(default=None, description="Any of.")
    snoozed: bool = strawberry.field(
        default=False, description="True lists only the snoozed ones, which are hidden otherwise."
    )
    teams: list[str] | None = strawberry.field(
        default=None, description="Any of: those that came through these teams (by key)."
    )


@strawberry.type
class NotificationStats:
    total: int = strawberry.field(description="In the inbox: neither archived nor deleted.")
    unread: int
    read: int
    unseen: int
    archived: int


@strawberry.type
class MarkReadPayload:
    marked: int


@strawberry.type
class DeletePayload:
    deleted: int


# Served straight from live.messages.InboxMessage, which has these fields (and NotificationPayload
# those of Notification): no copy is made per subscriber and event.
@strawberry.type
class InboxEvent:
    kind: InboxEventKind = strawberry.field(
        description="SYNC carries the current state: sent first and after any gap."
    )
    notification: Notification | None
    notification_ids: list[strawberry.ID]
    unread_count: int
    unseen_count: int
    all: bool = strawberry.field(
        description="Every notification in scope changed (mark all read, delete all read)."
    )
    category: str | None = strawberry.field(description="The scope of an `all` change.")
    quiet: bool = strawberry.field(
        description="Arrived inside the viewer's quiet hours: show it, but without a sound."
    )
    cursor: str = strawberry.field(
        description="Give it as inbox(after:) to resume after this event, on any replica."
    )
    reset: bool = strawberry.field(
        description="A SYNC sent where the events after the given cursor could not be: it "
        "was too old (BELFRY_LIVE_REPLAY_SECONDS) or not the viewer's. Reload the list."
    )


@strawberry.type
class InboxQuery:
    @strawberry.field(
        permission_classes=[ForUsers],
        description="The viewer's inbox, newest first. Page with `after` or jump with `offset`.",
    )
    async def notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
        filter: NotificationFilter | None = None,
        order_by: service.NotificationOrder = service.NotificationOrder.NEWEST,
    ) -> NotificationConnection:
        inbox_filter = service.InboxFilter(
            read_state=filter.read_state if filter else service.ReadState.ALL,
            categories=filter.categories if filter else None,
            archived=filter.archived if filter else service.ArchiveFilter.EXCLUDE,
            priorities=filter.priorities if filter else None,
            tags=filter.tags if filter else None,
            snoozed=filter.snoozed if filter else False,
            teams=filter.teams if filter else None,
        )
        result = await service.list_notifications(
            user_id=info.context.user.user_id,
            request=page_request(first, after, offset),
            inbox_filter=inbox_filter,
            order=order_by,
        )
        return NotificationConnection.from_page(result)

    @strawberry.field(
        permission_classes=[ForUsers],
        description="Null when the viewer has no such notification; BAD_USER_INPUT for an id "
        "that is not an id.",
    )
    async def notification(self, info: Info, id: strawberry.ID) -> Notification | None:
        n = await service.get_notification(user_id=info.context.user.user_id, notification_id=id)
        return Notification.from_model(n) if n else None

    @strawberry.field(permission_classes=[ForUsers])
    async def notification_stats(
        self, info: Info, category: str | None = None
    ) -> NotificationStats:
        stats = await service.stats_for(
            user_id=info.context.user.user_id, categories=[category] if category else None
        )
        return NotificationStats(
            total=stats.total,
            unread=stats.unread,
            read=stats.read,
            unseen=stats.unseen,
            archived=stats.archived,
        )

    @strawberry.field(permission_classes=[ForUsers])
    async def unread_count(self, info: Info, category: str | None = None) -> int:
        return await service.unread_count(user_id=info.context.user.user_id, category=category)

    @strawberry.field(permission_classes=[ForUsers])
    async def unseen_count(self, info: Info, category: str | None = None) -> int:
        return await service.unseen_count(user_id=info.context.user.user_id, category=category)


@strawberry.type
class InboxMutation:
    @strawberry.mutation(
        permission_classes=[ForUsers],
        description="Idempotent: an id that is unknown, another user's or already read changes "
        "nothing and answers true; BAD_USER_INPUT for an id that is not an id.",
    )
    async def mark_notification_read(self, info: Info, id: strawberry.ID) -> bool:
        return await changes.mark_read(viewer=info.context.user, notification_id=id)

    @strawberry.mutation(
        permission_classes=[ForUsers], description="Set one notification read or unread."
    )
    async def set_notification_read(
        self, info: Info, id: strawberry.ID, read: bool = True
    ) -> Notification:
        n = await changes.set_read(viewer=info.context.user, notification_id=id, read=read)
        return Notification.from_model(n)

    @strawberry.mutation(
        permission_classes=[ForUsers],
        description="Mark these ids read (all unread when empty); rejects ids not the viewer's.",
    )
    async def mark_notifications_read(
        self, info: Info, ids: list[strawberry.ID]
    ) -> MarkReadPayload:
        marked = await changes.mark_many_read(viewer=info.context.user, notification_ids=list(ids))
        return MarkReadPayload(marked=marked)

    @strawberry.mutation(permission_classes=[ForUsers])
    async def mark_all_notifications_read(
        self, info: Info, category: str | None = None
    ) -> MarkReadPayload:
        marked = await changes.mark_all_read(viewer=info.context.user, category=category)
        return MarkReadPayload(marked=marked)

    @strawberry.mutation(
        permission_classes=[ForUsers],
        description="Mark these ids seen (all unseen when empty); rejects ids not the viewer's.",
    )
    async def mark_notifications_seen(
        self, info: Info, ids: list[strawberry.ID]
    ) -> MarkReadPayload:
        marked = await changes.mark_many_seen(viewer=info.context.user, notification_ids=list(ids))
        return MarkReadPayload(marked=marked)

    @strawberry.mutation(
        permission_classes=[ForUsers],
        description="Out of the inbox's list and badges, into the archive; marks it seen.",
    )
    async def archive_notification(self, info: Info, id: strawberry.ID) -> Notification:
        n = await changes.archive(viewer=info.context.user, notification_id=id, archived=True)
        return Notification.from_model(n)

    @strawberry.mutation(permission_classes=[ForUsers], description="Back into the inbox.")
    async def unarchive_notification(self, info: Info, id: strawberry.ID) -> Notification:
        n = await changes.archive(viewer=info.context.user, notification_id=id, archived=False)
        return Notification.from_model(n)

    @strawberry.mutation(
        permission_classes=[ForUsers], description="Every read notification in the inbox."
    )
    async def archive_read_notifications(self, info: Info) -> MarkReadPayload:
        return MarkReadPayload(marked=await changes.archive_read(viewer=info.context.user))

    @strawberry.mutation(
        permission_classes=[ForUsers],
        description="The viewer took one of its actions: marks it read and interacted.",
    )
    async def record_notification_action(
        self, info: Info, id: strawberry.ID, action_id: str
    ) -> Notification:
        n = await changes.record_action(
            viewer=info.context.user, notification_id=id, action_id=action_id
        )
        return Notification.from_model(n)

    @strawberry.mutation(
        permission_classes=[ForUsers],
        description="Out of the inbox and its badges until `until` (1 minute to 90 days ahead).",
    )
    async def snooze_notification(
        self, info: Info, id: strawberry.ID, until: datetime
    ) -> Notification:
        n = await changes.snooze(viewer=info.context.user, notification_id=id, until=until)
        return Notification.from_model(n)

    @strawberry.mutation(permission_classes=[ForUsers], description="Back in the inbox now.")
    async def unsnooze_notification(self, info: Info, id: strawberry.ID) -> Notification:
        n = await changes.snooze(viewer=info.context.user, notification_id=id, until=None)
        return Notification.from_model(n)

    @strawberry.mutation(
        permission_classes=[ForUsers],
        description="Soft delete, idempotent: an id that is unknown, another user's or already "
        "deleted changes nothing and answers true; BAD_USER_INPUT for an id that is not an id.",
    )
    async def delete_notification(self, info: Info, id: strawberry.ID) -> bool:
        return await changes.delete_notification(viewer=info.context.user, notification_id=id)

    @strawberry.mutation(
        permission_classes=[ForUsers], description="Read ones, in the inbox and the archive."
    )
    async def delete_read_notifications(self, info: Info) -> DeletePayload:
        deleted = await changes.delete_read(viewer=info.context.user)
        return DeletePayload(deleted=deleted)


@strawberry.type
class InboxSubscription:
    @strawberry.subscription(
        permission_classes=[ForUsers],
        description="Every change to the viewer's inbox, each with the new unread count. With "
        "`after` (an event's cursor), the events since then come first instead of a SYNC.",
    )
    async def inbox(self, info: Info, after: str | None = None) -> AsyncGenerator[InboxEvent, None]:
        context = info.context
        viewer = context.user
        render = renderer_for(info)
        async for message in subscriptions.inbox_events(
            tenant_id=viewer.tenant_id, user_id=viewer.user_id, after=after
        ):
            if context.principal is not None:  # None: its credential is gone (app.http.registry)
                yield render(message)

    @strawberry.subscription(
        permission_classes=[ForUsers],
        description="The viewer's unread count now, then every change to it.",
    )
    async def unread_count(
        self, info: Info, category: str | None = None
    ) -> AsyncGenerator[int, None]:
        async for count in _badge(info, Badge.UNREAD, category):
            yield count

    @strawberry.subscription(
        permission_classes=[ForUsers],
        description="The viewer's unseen count now, then every change to it.",
    )
    async def unseen_count(
        self, info: Info, category: str | None = None
    ) -> AsyncGenerator[int, None]:
        async for count in _badge(info, Badge.UNSEEN, category):
            yield count


async def _badge(info: Info, badge: Badge, category: str | None) -> AsyncGenerator[int, None]:
    context = info.context
    viewer = context.user
    render = renderer_for(info)
    async for count in subscriptions.badge_counts(
        tenant_id=viewer.tenant_id, user_id=viewer.user_id, badge=badge, category=category
    ):
        if context.principal is not None:  # None: its credential is gone (app.http.registry)
            yield render(count)
