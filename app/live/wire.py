"""The batch formats of the inbox and delivery topics. One message per change however many
users it reaches (a publish to 10,000 users is ten messages, not 10,000), what its users share
written once, decoded once per process and only for the users with subscribers there."""

import json
from collections.abc import Container, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from app.encoding import dumps
from app.live.messages import (
    ALL,
    DELIVERY_FIELDS,
    ActionPayload,
    DeliveryPayload,
    InboxEventKind,
    InboxMessage,
    NotificationPayload,
)
from app.models.notifications import Priority

# On the wire a batch carries what its messages share once, then per user: the user id, the
# unread and unseen counts and the notification ids, and a 1 after them for a quiet one. A
# notification travels without its id, which is the recipient's first notification id.
BATCH_SIZE = 1000
DATETIMES = [
    "read_at",
    "seen_at",
    "archived_at",
    "interacted_at",
    "snoozed_until",
    "expires_at",
    "created_at",
]


def encode_inbox(messages: Sequence[tuple[UUID | str, InboxMessage]]) -> list[str]:
    """Messages as few wire batches as possible, keeping their order. A user is in a batch
    once at most: a batch's position is each of its messages' place in their user's stream."""
    batches: list[str] = []
    group: list[tuple[UUID | str, InboxMessage]] = []
    users: set[UUID | str] = set()
    for user_id, message in messages:
        if group and (
            len(group) >= BATCH_SIZE or not _shared(group[0][1], message) or user_id in users
        ):
            batches.append(_encode_group(group))
            group, users = [], set()
        group.append((user_id, message))
        users.add(user_id)
    if group:
        batches.append(_encode_group(group))
    return batches


Created = tuple[UUID, UUID, int, int, bool]  # user, notification, unread, unseen, quiet


def encode_created(notification: NotificationPayload, to: Sequence[Created]) -> list[str]:
    """One notification's content created for many users at once, given per user as Created:
    a publish needs no InboxMessage per recipient."""
    change = InboxMessage(
        kind=InboxEventKind.CREATED,
        unread_count=0,
        unseen_count=0,
        notification=notification,
        categories=[notification.category],
    )
    return [
        _wire(
            change,
            [_to(user, unread, unseen, [nid], quiet) for user, nid, unread, unseen, quiet in chunk],
        )
        for chunk in (to[i : i + BATCH_SIZE] for i in range(0, len(to), BATCH_SIZE))
    ]


def _shared(a: InboxMessage, b: InboxMessage) -> bool:
    if (a.kind, a.categories, a.all, a.category) != (b.kind, b.categories, b.all, b.category):
        return False
    if a.notification is None or b.notification is None:
        return a.notification is b.notification
    return a.notification.same_content(b.notification)


def _encode_group(group: list[tuple[UUID | str, InboxMessage]]) -> str:
    return _wire(
        group[0][1],
        [_to(u, m.unread_count, m.unseen_count, m.notification_ids, m.quiet) for u, m in group],
    )


def _to(
    user: UUID | str, unread: int, unseen: int, ids: Sequence[UUID | str], quiet: bool
) -> list[Any]:
    return [user, unread, unseen, ids, 1] if quiet else [user, unread, unseen, ids]


def _wire(change: InboxMessage, to: list[list[Any]]) -> str:
    n = change.notification
    return dumps(
        {
            "kind": change.kind,
            "notification": None if n is None else n.content(),
            "categories": change.categories,
            "all": change.all,
            "category": change.category,
            "to": to,
        }
    )


def decode_inbox(raw: str, wanted: Container[str]) -> list[tuple[str, InboxMessage]]:
    """The messages of a batch for the users in `wanted` (those with subscribers here), each
    at the position the batch was kept at, when it comes as "ID BATCH"."""
    position, _, kept = raw.partition(" ") if not raw.startswith("{") else ("", "", raw)
    batch = json.loads(kept)
    kind = InboxEventKind(batch["kind"])
    shared = batch["notification"]
    if shared is not None:
        for key in DATETIMES:
            if shared[key] is not None:
                shared[key] = datetime.fromisoformat(shared[key])
        shared["priority"] = Priority(shared["priority"])
        shared["actions"] = ActionPayload.all_of(shared["actions"])
    categories, all_, category = batch["categories"], batch["all"], batch["category"]
    return [
        (
            user_id,
            InboxMessage(
                kind=kind,
                unread_count=unread,
                unseen_count=unseen,
                notification=None if shared is None else NotificationPayload(id=ids[0], **shared),
                notification_ids=ids,
                categories=categories,
                all=all_,
                category=category,
                quiet=bool(quiet),
                position=position,
            ),
        )
        for user_id, unread, unseen, ids, *quiet in batch["to"]
        if user_id in wanted
    ]


# --- deliveries ---

_DELIVERY_TIMES = ("created_at", "sent_at", "next_attempt_at")


def encode_deliveries(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Rows with the fields of DeliveryPayload (others are ignored), in batches where a field
    with one value throughout travels once: a publish's deliveries differ only in their ids."""
    batches = []
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start : start + BATCH_SIZE]
        same, each = {}, {}
        for name in DELIVERY_FIELDS:
            column = [row[name] for row in chunk]
            if column.count(column[0]) == len(column):
                same[name] = column[0]
            else:
                each[name] = column
        batches.append(dumps({"count": len(chunk), "same": same, "each": each}))
    return batches


def decode_deliveries(raw: str, wanted: Container[str]) -> list[tuple[str, DeliveryPayload]]:
    """Each delivery goes to its recipient's subscriptions and to the tenant-wide ones."""
    batch = json.loads(raw)
    same, each = batch["same"], batch["each"]
    items: list[tuple[str, DeliveryPayload]] = []
    for i in range(batch["count"]):
        values = same | {name: column[i] for name, column in each.items()}
        keys = [key for key in (ALL, values["recipient_id"]) if key in wanted]
        if not keys:
            continue
        for name in _DELIVERY_TIMES:
            if values[name] is not None:
                values[name] = datetime.fromisoformat(values[name])
        payload = DeliveryPayload(**values)
        items += [(key, payload) for key in keys]
    return items
