"""The messages live subscribers receive, typed: what travels between processes is encoded
from and decoded to these (app/live/wire.py), and nothing else."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

from app.models.notifications import Priority
from app.models.teams import TeamRef

if TYPE_CHECKING:  # the live layer reads rows; it never queries
    from app.models import Delivery, Notification

# The subscription key that means every subscriber of a topic: an administrator's view of all
# the tenant's deliveries, and each process's one listener for credentials and wake-ups.
ALL = "*"


class Signal(Enum):
    """Markers a subscriber receives besides events."""

    RESYNC = "resync"  # events may have been missed: re-read the current state


class InboxEventKind(StrEnum):
    SYNC = "SYNC"
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    ARCHIVED = "ARCHIVED"
    UNARCHIVED = "UNARCHIVED"
    SNOOZED = "SNOOZED"
    RESURFACED = "RESURFACED"  # back from a snooze
    EXPIRED = "EXPIRED"


@dataclass(slots=True)
class ActionPayload:
    """A notification's button as it travels: attributes for the API to read (a stored one is
    a JSON object); written to the wire as that same object."""

    id: str
    label: str
    url: str | None = None
    primary: bool = False

    @classmethod
    def all_of(cls, stored: "list[dict[str, Any]] | None") -> "list[ActionPayload]":
        return [cls(**action) for action in stored or ()]


# Payloads are made per recipient on every publish: plain slotted dataclasses, since frozen
# ones cost three times as much to construct. Nobody changes one once made.
@dataclass(slots=True)
class NotificationPayload:
    """A notification as it travels to subscribers: the fields the API shows."""

    id: str
    category: str
    title: str
    body: str | None
    link: str | None
    data: Any
    priority: Priority
    actions: list[ActionPayload]
    tags: list[str]
    read_at: datetime | None
    seen_at: datetime | None
    archived_at: datetime | None
    interacted_at: datetime | None
    snoozed_until: datetime | None
    expires_at: datetime | None
    collapse_key: str | None
    occurrences: int
    created_at: datetime
    team_key: str | None = None
    team_name: str | None = None

    @classmethod
    def of(cls, n: "Notification") -> "NotificationPayload":
        return cls(
            id=str(n.id),
            category=n.category,
            title=n.title,
            body=n.body,
            link=n.link,
            data=n.data,
            priority=n.priority,
            actions=ActionPayload.all_of(n.actions),
            tags=n.tags or [],
            read_at=n.read_at,
            seen_at=n.seen_at,
            archived_at=n.archived_at,
            interacted_at=n.interacted_at,
            snoozed_until=n.snoozed_until,
            expires_at=n.expires_at,
            collapse_key=n.collapse_key,
            occurrences=n.occurrences,
            created_at=n.created_at,
            team_key=n.team_key,
            team_name=n.team_name,
        )

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> "NotificationPayload":
        return cls(
            id=str(row["id"]),
            category=row["category"],
            title=row["title"],
            body=row["body"],
            link=row["link"],
            data=row["data"],
            priority=row["priority"],
            actions=ActionPayload.all_of(row["actions"]),
            tags=row["tags"] or [],
            read_at=row.get("read_at"),
            seen_at=row.get("seen_at"),
            archived_at=row.get("archived_at"),
            interacted_at=row.get("interacted_at"),
            snoozed_until=row.get("snoozed_until"),
            expires_at=row.get("expires_at"),
            collapse_key=row.get("collapse_key"),
            occurrences=row.get("occurrences", 1),
            created_at=row["created_at"],
            team_key=row.get("team_key"),
            team_name=row.get("team_name"),
        )

    @property
    def team(self) -> TeamRef | None:
        return TeamRef.of(self.team_key, self.team_name)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def is_seen(self) -> bool:
        return self.seen_at is not None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def content(self) -> dict[str, Any]:
        """Everything but the id (see encode_inbox). The team only where there is one, which
        processes of a version before teams can still decode."""
        names = _CONTENT if self.team_key is not None else _CONTENT_BUT_TEAM
        return {name: getattr(self, name) for name in names}

    def same_content(self, other: "NotificationPayload") -> bool:
        """Equal in everything but the id."""
        return self.content() == other.content()


_CONTENT = tuple(name for name in NotificationPayload.__slots__ if name != "id")
_CONTENT_BUT_TEAM = tuple(name for name in _CONTENT if name not in ("team_key", "team_name"))


@dataclass(slots=True)
class InboxMessage:
    """One change to one user's inbox, with the unread and unseen counts that followed it.

    `all` means every notification in scope changed (mark all read, delete all read); the
    scope is `category` when set. `categories` names the categories touched."""

    kind: InboxEventKind
    unread_count: int
    unseen_count: int
    notification: NotificationPayload | None = None
    notification_ids: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    all: bool = False
    category: str | None = None
    quiet: bool = False  # arrived inside the user's quiet hours: no sound
    position: str = ""  # where the change is kept (app.live.backends), once published
    cursor: str = ""  # what a subscription resumes after (app.live.streams)
    reset: bool = False  # a SYNC in place of events that could not be replayed

    def touches(self, category: str | None) -> bool:
        """Could this change move the counts of `category` (None: of everything)?"""
        if category is None or category in self.categories:
            return True
        return self.all and self.category in (None, category)


# On the wire a batch carries what its messages share once, then per user: the user id, the


@dataclass(slots=True)
class DeliveryPayload:
    """A delivery's state as the deliveryStatus subscription shows it."""

    id: str
    recipient_id: str | None
    notification_id: str | None
    channel: str
    category: str
    status: str
    attempt_count: int
    last_error: str | None
    rule_id: str | None
    job_id: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, d: "Delivery") -> "DeliveryPayload":
        def text(value: Any) -> str | None:
            return None if value is None else str(value)

        return cls(
            id=str(d.id),
            recipient_id=text(d.recipient_id),
            notification_id=text(d.notification_id),
            channel=str(d.channel),
            category=d.category,
            status=str(d.status),
            attempt_count=d.attempt_count,
            last_error=d.last_error,
            rule_id=text(d.rule_id),
            job_id=d.job_id,
            created_at=d.created_at,
            sent_at=d.sent_at,
            next_attempt_at=d.next_attempt_at,
        )


DELIVERY_FIELDS = DeliveryPayload.__slots__
