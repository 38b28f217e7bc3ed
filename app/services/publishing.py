"""Producers publish notifications to users named by their external ids or by team."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import clock, metrics
from app.db import Rows, connection, in_one_statement, new_ids
from app.encoding import JsonValue
from app.errors import BadUserInput
from app.live import publish as live
from app.live.messages import InboxEventKind, InboxMessage, NotificationPayload
from app.live.wire import Created
from app.logs import request_id as current_request_id
from app.models import (
    ActionJson,
    Channel,
    Delivery,
    DeliveryRow,
    DeliveryStatus,
    EventCategory,
    Notification,
    NotificationRow,
    NotificationTag,
    Priority,
    ScheduledNotification,
    Snapshot,
    TagRow,
    TeamRef,
)
from app.services import audience, catalog, collapsing, counters
from app.services import routing as routing_service
from app.services.validation import (
    check_category,
    check_kept_json,
    check_length,
    check_link,
    check_tags,
    is_safe_link,
)
from app.tracing import current_traceparent

MAX_ACTIONS = 3
LOOKUP_BATCH = 1000
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Action:
    """A button on a notification; recordNotificationAction names it by id."""

    id: str
    label: str
    url: str | None = None
    primary: bool = False

    def validate(self, index: int) -> None:
        where = f"actions[{index}]"
        check_length(f"{where}.id", self.id, 50, required=True)
        check_length(f"{where}.label", self.label, 100, required=True)
        check_link(f"{where}.url", self.url)

    def as_json(self) -> ActionJson:
        return {"id": self.id, "label": self.label, "url": self.url, "primary": self.primary}

    def without_unsafe_url(self) -> "Action":
        return self if self.url is None or is_safe_link(self.url) else replace(self, url=None)


@dataclass(frozen=True, slots=True)
class NotificationDraft:
    category: str
    title: str
    body: str | None = None
    link: str | None = None
    data: JsonValue = None
    priority: Priority = Priority.NORMAL
    actions: tuple[Action, ...] = ()
    tags: tuple[str, ...] = ()
    expires_at: datetime | None = None
    collapse_key: str | None = None

    def validate(self) -> None:
        check_category(self.category)
        check_length("title", self.title, 500, required=True)
        check_length("body", self.body or "", 20_000)
        check_link("link", self.link)
        check_kept_json("data", self.data)
        if len(self.actions) > MAX_ACTIONS:
            raise BadUserInput(f"At most {MAX_ACTIONS} actions", field="actions")
        seen: set[str] = set()
        for index, action in enumerate(self.actions):
            action.validate(index)
            if action.id in seen:
                named = f"actions[{index}].id"
                raise BadUserInput(f"{named}: each action needs an id of its own", field=named)
            seen.add(action.id)
        check_tags(self.tags)
        if self.collapse_key is not None:
            check_length("collapseKey", self.collapse_key, 100, required=True)
        if self.expires_at is not None and self.expires_at <= clock.now():
            raise BadUserInput("expiresAt must be in the future", field="expiresAt")

    def actions_json(self) -> list[ActionJson] | None:
        return [a.as_json() for a in self.actions] or None

    def without_unsafe_links(self) -> "NotificationDraft":
        """This draft less any link or button url that a publish now refuses, for drafts kept
        from before links were checked (a rule's buttons, a scheduled notification)."""
        return replace(
            self,
            link=self.link if self.link is None or is_safe_link(self.link) else None,
            actions=tuple(a.without_unsafe_url() for a in self.actions),
        )


@dataclass(frozen=True, slots=True)
class PublishResult:
    notification_ids: list[UUID]
    duplicate: bool

    @property
    def count(self) -> int:
        return len(self.notification_ids)


@dataclass(frozen=True, slots=True)
class Routing:
    """How a publish picks channels, beyond the recipients' preferences."""

    requested: set[Channel] | None = None  # only these (preferences still apply)
    forced: set[Channel] = field(default_factory=set)  # these even where preferences say no
    job_id: str | None = None  # marks the deliveries, so they can be found again
    rule_id: UUID | None = None  # the rule that asked for this publish
    # Deliveries with no user behind them: a rule's raw addresses, a channel's endpoint.
    direct: tuple[routing_service.Direct, ...] = ()


async def publish_notification(
    *,
    tenant_id: UUID,
    recipients: list[str],
    draft: NotificationDraft,
    teams: list[str] | None = None,
    idempotency_key: str | None = None,
    routing: Routing | None = None,
    joins_catalogue: bool = True,
) -> PublishResult:
    """One transaction writes every recipient's notification, counter and deliveries: the
    recipients named and the current members of the teams named, each once. A retry with the
    same idempotency key returns the first result instead of writing again. A free category
    joins the catalogue unless `joins_catalogue` is false."""
    draft.validate()
    reached = await audience.of(tenant_id, recipients, teams or [])
    external_ids = reached.external_ids
    known = await catalog.require_publishable(
        tenant_id=tenant_id, key=draft.category, joins=joins_catalogue
    )
    if idempotency_key is not None:
        check_length("idempotencyKey", idempotency_key, 200, required=True)
        if earlier := await earlier_result(tenant_id, idempotency_key, external_ids):
            return earlier
    if not external_ids:  # teams without members
        return PublishResult(notification_ids=[], duplicate=False)
    for attempt in range(ATTEMPTS):
        try:
            user_ids = await audience.resolve(tenant_id, external_ids)
            rows = await prepare(
                tenant_id=tenant_id,
                user_ids=user_ids,
                draft=draft,
                category=known,
                routing=routing or Routing(),
                idempotency_key=idempotency_key,
                teams=reached.team_by_user(user_ids),
            )
            if draft.collapse_key is None and in_one_statement(connection(), rows.inserts):
                written = await store(rows)  # atomic alone: no transaction's two round trips
            else:
                async with in_transaction():
                    written = await store(await collapse(rows, draft))
            await announce(written)
            return PublishResult(notification_ids=written.notification_ids, duplicate=False)
        except IntegrityError:
            # A concurrent publish won a race: either it used the same idempotency key (answer
            # with its result) or it created one of our new recipients (write again). Or a
            # cached recipient was erased meanwhile: look the tenant's users up afresh.
            audience.known_users.evict_tenant(tenant_id)
            if idempotency_key and (
                earlier := await earlier_result(tenant_id, idempotency_key, external_ids)
            ):
                return earlier
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class Written:
    tenant_id: UUID
    notifications: list[NotificationRow]
    badges: dict[UUID, counters.Badges]  # each recipient's, after the write (inbox only)
    deliveries: list[DeliveryRow]
    collapsed: list[Notification] = field(default_factory=list)  # replaced, not added
    ids: list[UUID] = field(default_factory=list)  # each recipient's notification, in order
    quiet: frozenset[UUID] = frozenset()  # recipients inside their quiet hours

    @property
    def notification_ids(self) -> list[UUID]:
        return self.ids or [row.id for row in self.notifications]

    @property
    def direct_deliveries(self) -> int:
        return sum(1 for d in self.deliveries if d.notification_id is None)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A publish's rows, ready to store."""

    tenant_id: UUID
    category: str
    notifications: list[NotificationRow]
    deliveries: list[DeliveryRow]
    tags: list[TagRow]
    collapsed: list[Notification] = field(default_factory=list)
    ids: list[UUID] = field(default_factory=list)  # see Written
    quiet: frozenset[UUID] = frozenset()  # see Written

    @property
    def inserts(self) -> list[Rows]:
        return [
            (Notification, self.notifications),
            (Delivery, self.deliveries),
            (NotificationTag, self.tags),
        ]


async def write(
    *,
    tenant_id: UUID,
    reached: audience.Audience,
    draft: NotificationDraft,
    category: EventCategory | None,
    routing: Routing,
) -> Written:
    """The rows of one publish, inside the caller's transaction; `announce` them after it
    commits. `category` is the catalogue's entry for draft.category (None for a free
    category). Recipients new to Belfry are made first, in a statement of their own."""
    user_ids = await audience.resolve(tenant_id, reached.external_ids)
    return await write_for(
        tenant_id=tenant_id,
        user_ids=user_ids,
        draft=draft,
        category=category,
        routing=routing,
        teams=reached.team_by_user(user_ids),
    )


async def write_for(
    *,
    tenant_id: UUID,
    user_ids: list[UUID],
    draft: NotificationDraft,
    category: EventCategory | None,
    routing: Routing,
    idempotency_key: str | None = None,
    ids: list[UUID] | None = None,
    teams: Mapping[UUID, TeamRef] | None = None,
) -> Written:
    """As write, for users known by id; `ids` are their notifications' ids, if chosen, and
    `teams` the teams some came through."""
    prepared = await prepare(
        tenant_id=tenant_id,
        user_ids=user_ids,
        draft=draft,
        category=category,
        routing=routing,
        idempotency_key=idempotency_key,
        ids=ids,
        teams=teams,
    )
    return await store(await collapse(prepared, draft))


async def prepare(
    *,
    tenant_id: UUID,
    user_ids: list[UUID],
    draft: NotificationDraft,
    category: EventCategory | None,
    routing: Routing,
    idempotency_key: str | None = None,
    ids: list[UUID] | None = None,
    teams: Mapping[UUID, TeamRef] | None = None,
) -> Prepared:
    """What a publish writes, from reads alone; `ids` are the notifications' (one per user),
    where already chosen, and `teams` the teams some users came through."""
    now = clock.now()
    teams = teams or {}
    plan = await routing_service.plan(
        tenant_id=tenant_id,
        user_ids=user_ids,
        direct=routing.direct,
        category=category,
        now=now,
        requested=routing.requested,
        forced=routing.forced,
        urgent=draft.priority is Priority.URGENT,
    )
    actions, tags = draft.actions_json(), list(draft.tags) or None
    rows = [
        NotificationRow(
            id=nid,
            tenant_id=tenant_id,
            recipient_id=user_id,
            category=draft.category,
            title=draft.title,
            body=draft.body,
            link=draft.link,
            data=draft.data,
            priority=draft.priority,
            actions=actions,
            tags=tags,
            expires_at=draft.expires_at,
            collapse_key=draft.collapse_key,
            idempotency_key=idempotency_key,
            team_key=None if team is None else team.key,
            team_name=None if team is None else team.name,
            # In-app switched off: kept for the delivery log, never shown in the inbox.
            deleted_at=None if Channel.IN_APP in plan.routes[user_id].channels else now,
            created_at=now,
        )
        for user_id, nid, team in zip(
            user_ids,
            ids or new_ids(len(user_ids)),
            [teams.get(user_id) for user_id in user_ids],
            strict=True,
        )
    ]
    deliveries = _deliveries(tenant_id, rows, plan, draft, routing, now)
    tag_rows = [
        TagRow(id=tag_id, notification_id=n, recipient_id=user, tag=tag)
        for (n, user, tag), tag_id in zip(
            ((row.id, row.recipient_id, tag) for row in rows for tag in draft.tags),
            new_ids(len(rows) * len(draft.tags)),
            strict=True,
        )
    ]
    return Prepared(
        tenant_id,
        draft.category,
        notifications=rows,
        deliveries=deliveries,
        tags=tag_rows,
        quiet=frozenset(u for u, route in plan.routes.items() if route.quiet_until),
    )


async def store(prepared: Prepared) -> Written:
    """The rows, and the recipients' inbox counters, which give their new unread totals."""
    shown = [row.recipient_id for row in prepared.notifications if row.deleted_at is None]
    badges = await counters.count_new(shown, prepared.category, inserting=prepared.inserts)
    if prepared.collapsed:
        badges |= await counters.badges([n.recipient_id for n in prepared.collapsed])
    return Written(
        prepared.tenant_id,
        notifications=prepared.notifications,
        badges=badges,
        deliveries=prepared.deliveries,
        collapsed=prepared.collapsed,
        ids=prepared.ids,
        quiet=prepared.quiet,
    )


async def collapse(prepared: Prepared, draft: NotificationDraft) -> Prepared:
    """Inside the publish's transaction, for a draft with a collapse key: the recipients
    whose latest unread notification has the key get it replaced (services.collapsing), and
    their deliveries and tags point at it instead of at a new row."""
    if draft.collapse_key is None:
        return prepared
    shown = [r for r in prepared.notifications if r.deleted_at is None]
    replaced = await collapsing.into_latest(
        shown,
        key=draft.collapse_key,
        category=draft.category,
        urgent=draft.priority is Priority.URGENT,
    )
    if not replaced:
        return prepared
    into = {row_id: n.id for row_id, n in replaced.items()}
    pointing: list[DeliveryRow | TagRow] = [*prepared.deliveries, *prepared.tags]
    for row in pointing:
        if row.notification_id in into:
            row.notification_id = into[row.notification_id]
    return Prepared(
        prepared.tenant_id,
        prepared.category,
        notifications=[r for r in prepared.notifications if r.id not in into],
        deliveries=prepared.deliveries,
        tags=prepared.tags,
        collapsed=list(replaced.values()),
        ids=[into.get(r.id, r.id) for r in prepared.notifications],
        quiet=prepared.quiet,
    )


async def announce(written: Written) -> None:
    """Live events once the write committed: the inbox first, which browsers wait on."""
    metrics.PUBLISHES.inc()
    metrics.NOTIFICATIONS.inc(len(written.notifications))
    # Recipients share the notification's content, but for the team they came through.
    by_team: dict[str | None, tuple[NotificationPayload, list[Created]]] = {}
    for row in written.notifications:
        if row.deleted_at is None:
            if (group := by_team.get(row.team_key)) is None:
                group = by_team[row.team_key] = (NotificationPayload.of_row(row), [])
            user = row.recipient_id
            group[1].append((user, row.id, *written.badges[user], user in written.quiet))
    await live.publish_created(
        written.tenant_id,
        list(by_team.values()),
        written.deliveries,
        wake=any(d.status is DeliveryStatus.QUEUED for d in written.deliveries),
    )
    if written.collapsed:
        await live.publish_inbox(
            written.tenant_id,
            [
                (
                    n.recipient_id,
                    _collapsed(
                        n, written.badges[n.recipient_id], quiet=n.recipient_id in written.quiet
                    ),
                )
                for n in written.collapsed
            ],
        )


def _collapsed(n: Notification, badges: counters.Badges, *, quiet: bool) -> InboxMessage:
    return InboxMessage(
        kind=InboxEventKind.UPDATED,
        unread_count=badges.unread,
        unseen_count=badges.unseen,
        notification=NotificationPayload.of(n),
        notification_ids=[str(n.id)],
        categories=[n.category],
        quiet=quiet,
    )


def _deliveries(
    tenant_id: UUID,
    notifications: list[NotificationRow],
    plan: routing_service.Plan,
    draft: NotificationDraft,
    routing: Routing,
    now: datetime,
) -> list[DeliveryRow]:
    """One row per recipient and channel (in-app is delivered by the write itself), and one
    per direct target."""
    origin = _Origin(
        tenant_id=tenant_id,
        category=draft.category,
        job_id=routing.job_id,
        rule_id=routing.rule_id,
        request_id=current_request_id.get(),  # the worker's log lines carry it on
        trace_parent=current_traceparent(),  # the worker's spans link back to this publish
        now=now,
    )
    outcomes: dict[int, list[routing_service.Outcome]] = {}
    for_each: list[tuple[NotificationRow, list[routing_service.Outcome]]] = []
    for n in notifications:
        route = plan.routes[n.recipient_id]
        if (planned := outcomes.get(id(route))) is None:  # recipients share their Route
            planned = outcomes[id(route)] = route.outcomes()
        for_each.append((n, planned))
    # Made here, all at once: a bulk insert returns no keys.
    ids = iter(new_ids(sum(len(planned) for _, planned in for_each) + len(plan.direct)))
    rows = [
        origin.delivery(next(ids), outcome, notification_id=n.id, recipient_id=n.recipient_id)
        for n, planned in for_each
        for outcome in planned
    ]
    snapshot = Snapshot(
        title=draft.title,
        body=draft.body,
        link=draft.link,
        data=draft.data,
        priority=draft.priority.name,
        actions=draft.actions_json() or [],
        tags=list(draft.tags),
    )
    rows += [
        origin.delivery(next(ids), outcome, address=direct.address, snapshot=snapshot)
        for direct, outcome in plan.direct
    ]
    return rows


@dataclass(frozen=True, slots=True)
class _Origin:
    """What every delivery of one publish shares."""

    tenant_id: UUID
    category: str
    job_id: str | None
    rule_id: UUID | None
    request_id: str | None
    trace_parent: str | None
    now: datetime

    def delivery(
        self,
        delivery_id: UUID,
        outcome: routing_service.Outcome,
        *,
        notification_id: UUID | None = None,
        recipient_id: UUID | None = None,
        address: str | None = None,
        snapshot: Snapshot | None = None,
    ) -> DeliveryRow:
        now, status = self.now, outcome.status
        sent = status is DeliveryStatus.SENT
        return DeliveryRow(
            id=delivery_id,
            tenant_id=self.tenant_id,
            channel=outcome.channel,
            category=self.category,
            status=status,
            created_at=now,
            notification_id=notification_id,
            recipient_id=recipient_id,
            address=address,
            snapshot=snapshot,
            forced=outcome.forced,
            attempt_count=1 if sent else 0,
            last_error=outcome.reason,
            next_attempt_at=outcome.held_until
            or (now if status is DeliveryStatus.QUEUED else None),
            sent_at=now if sent else None,
            job_id=self.job_id,
            rule_id=self.rule_id,
            request_id=self.request_id,
            trace_parent=self.trace_parent,
        )


async def earlier_result(
    tenant_id: UUID, idempotency_key: str, external_ids: list[str]
) -> PublishResult | None:
    """What a publish with this key already wrote for these recipients, or scheduled for
    them. Looked up through the (recipient, idempotency key) unique indexes, so it costs the
    same for any table size."""
    rows: list[tuple[UUID, str]] = []
    for model in (Notification, ScheduledNotification):
        for start in range(0, len(external_ids), LOOKUP_BATCH):
            rows += await model.filter(
                recipient__tenant_id=tenant_id,
                recipient__external_id__in=external_ids[start : start + LOOKUP_BATCH],
                idempotency_key=idempotency_key,
            ).values_list("id", "recipient__external_id")
    if not rows:
        return None
    position = {e: i for i, e in enumerate(external_ids)}
    rows.sort(key=lambda row: (position.get(row[1], len(position)), str(row[0])))
    return PublishResult(notification_ids=[row[0] for row in rows], duplicate=True)
