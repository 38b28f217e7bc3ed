"""The live views the subscriptions stream: one user's inbox and badge counts, and
deliveries' states.

Each subscribes before it reads the current state, so nothing falls between the two, and it
re-reads the state whenever the hub signals that events may have been missed. The state is
read by a function the caller gives (app.services.subscriptions): this layer only fans out.

Inbox events are kept for a while (app.live.backends), each at a position in its tenant's
stream: an event's cursor names the user, the store's epoch and that position, and a
subscription given a cursor replays what came after it instead of starting from the state."""

import asyncio
import base64
import binascii
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from enum import StrEnum
from typing import Protocol, TypeVar
from uuid import UUID

from app import clock
from app.errors import BadUserInput
from app.live.backends import UNREACHABLE, Head, id_key, position_before
from app.live.hub import hub
from app.live.mailbox import Mailbox
from app.live.messages import ALL, DeliveryPayload, InboxEventKind, InboxMessage, Signal
from app.live.topics import DELIVERIES, INBOX
from app.metrics import SUBSCRIPTIONS
from app.models import Channel

T = TypeVar("T")


class Badges(Protocol):
    """The counts a SYNC carries, as the inbox has them now."""

    @property
    def unread(self) -> int: ...

    @property
    def unseen(self) -> int: ...


Reader = Callable[[], Awaitable[T]]  # reads the state a stream starts from, and resyncs to


async def _next(mailbox: Mailbox[T]) -> T | None:
    """The next change, or None when the state must be re-read."""
    item = await mailbox.get()
    return None if isinstance(item, Signal) else item


def _inbox(
    tenant_id: UUID, user_id: UUID
) -> contextlib.AbstractAsyncContextManager[Mailbox[InboxMessage]]:
    return hub().subscription(INBOX, str(user_id), tenant_id=tenant_id)


async def _sync(user_id: UUID, head: Head, badges: Reader[Badges], *, reset: bool) -> InboxMessage:
    counts = await badges()
    return InboxMessage(
        kind=InboxEventKind.SYNC,
        unread_count=counts.unread,
        unseen_count=counts.unseen,
        position=head.position,
        cursor=cursor_of(user_id, head.epoch, head.position),
        reset=reset,
    )


def cursor_of(user_id: UUID, epoch: str, position: str) -> str:
    return base64.urlsafe_b64encode(f"{user_id}|{epoch}|{position}".encode()).decode()


def read_cursor(cursor: str) -> tuple[str, str, str]:
    """(user id, epoch, position); BAD_USER_INPUT for what no event's cursor looks like."""
    try:
        user, epoch, position = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        id_key(position)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise BadUserInput("Invalid cursor", field="after") from error
    return user, epoch, position


async def inbox_events(
    *, tenant_id: UUID, user_id: UUID, badges: Reader[Badges], after: str | None = None
) -> AsyncIterator[InboxMessage]:
    """SYNC first (and after any gap), with the counts `badges` reads, then every change to the
    inbox. Given the cursor of an earlier event, the changes after it come first instead of
    the SYNC, or, when they cannot all be given (too old, or another user's cursor), a SYNC
    marked reset."""
    wanted = read_cursor(after) if after is not None else None
    with SUBSCRIPTIONS.labels("inbox").track_inprogress():
        async with _inbox(tenant_id, user_id) as subscription:
            head = await _head(tenant_id)
            replayed = await _replay(tenant_id, user_id, head, wanted) if wanted else None
            if wanted is None or replayed is None:
                position = head.position
                yield await _sync(user_id, head, badges, reset=wanted is not None)
            else:
                position = wanted[2]
                for change in replayed:
                    position = change.position
                    yield _stamped(change, user_id, head.epoch)
            while True:
                message = await _next(subscription)
                if message is None:
                    head = await _head(tenant_id)
                    position = head.position
                    yield await _sync(user_id, head, badges, reset=True)
                elif not message.position or id_key(message.position) > id_key(position):
                    position = message.position or position
                    yield _stamped(message, user_id, head.epoch)
                # else: replayed already, or in the SYNC's state


async def _replay(
    tenant_id: UUID, user_id: UUID, head: Head, wanted: tuple[str, str, str]
) -> list[InboxMessage] | None:
    user, epoch, position = wanted
    if user != str(user_id) or epoch != head.epoch:  # another's, or the store lost what it kept
        return None
    try:
        found = await hub().kept_since(INBOX, str(user_id), position, tenant_id=tenant_id)
    except UNREACHABLE:
        found = None  # a SYNC instead
    _unless_cancelled()
    return found


async def _head(tenant_id: UUID) -> Head:
    """Where the tenant's kept events stand. With the store out of reach the SYNC still goes
    out, from the database, under an epoch no store has: resuming from it is a reset."""
    try:
        head = await hub().kept_head(INBOX, tenant_id=tenant_id)
    except UNREACHABLE:
        head = Head(epoch="", position=position_before(clock.real_ms()))
    _unless_cancelled()
    return head


def _unless_cancelled() -> None:
    """redis-py can swallow a cancellation that lands inside a command (turning it into a
    connection error, or retrying): a subscription being cancelled must still end."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _stamped(message: InboxMessage, user_id: UUID, epoch: str) -> InboxMessage:
    """The message, with its cursor (the same for every tab of the user that gets it)."""
    message.cursor = cursor_of(user_id, epoch, message.position)
    return message


class Badge(StrEnum):
    UNREAD = "unread"
    UNSEEN = "unseen"


async def badge_counts(
    *, tenant_id: UUID, user_id: UUID, badge: Badge, category: str | None, now: Reader[int]
) -> AsyncIterator[int]:
    """The badge's current count (as `now` reads it), then each new value (repeated after
    any gap)."""
    with SUBSCRIPTIONS.labels(f"{badge.value}Count").track_inprogress():
        async with _inbox(tenant_id, user_id) as subscription:
            last = await now()
            yield last
            while True:
                message = await _next(subscription)
                if message is None:
                    last = await now()
                    yield last
                    continue
                if not message.touches(category):
                    continue
                if category is not None:
                    value = await now()
                elif badge is Badge.UNREAD:
                    value = message.unread_count
                else:
                    value = message.unseen_count
                if value != last:
                    last = value
                    yield value


async def delivery_events(
    *,
    tenant_id: UUID,
    recipient_id: UUID | None,
    notification_id: UUID | None,
    channel: Channel | None,
    current: Reader[list[DeliveryPayload]] | None,
) -> AsyncIterator[DeliveryPayload]:
    """Each change of a delivery: one recipient's, or (recipient_id None) the tenant's. With a
    notification named, its deliveries' states as `current` reads them come first (and after
    any gap)."""

    def wanted(d: DeliveryPayload) -> bool:
        return (notification_id is None or d.notification_id == str(notification_id)) and (
            channel is None or d.channel == channel.value
        )

    async def now() -> list[DeliveryPayload]:
        return [] if current is None else [d for d in await current() if wanted(d)]

    key = ALL if recipient_id is None else str(recipient_id)
    with SUBSCRIPTIONS.labels("deliveryStatus").track_inprogress():
        async with hub().subscription(DELIVERIES, key, tenant_id=tenant_id) as subscription:
            for payload in await now():
                yield payload
            while True:
                item = await _next(subscription)
                for payload in await now() if item is None else [item]:
                    if wanted(payload):
                        yield payload
