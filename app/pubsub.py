"""Live fan-out: topic names, payloads, and the one broadcast hub every process shares.

broadcaster picks the backend by URL (`memory://` in one process, `redis://` across replicas).
Its own Redis backend stalls with redis-py 8 and dies silently when Redis restarts, and its
subscriber queues are unbounded, so Belfry adds:
- `RedisBackend`: reconnects with backoff, re-subscribes every channel and then tells every
  subscriber to resync, since whatever was published meanwhile is gone;
- bounded subscriber queues: a subscriber that falls behind has its backlog replaced by one
  `RESYNC`, so a slow reader costs a fixed amount of memory and catches up from the database;
- batches: one channel per tenant, one message per change however many users it reaches
  (a publish to 10,000 users is ten messages, not 10,000), what its users share written once,
  decoded once per process and only for the users with subscribers there.
"""

import asyncio
import contextlib
import json
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Callable, Container, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, ClassVar
from urllib.parse import urlparse
from uuid import UUID

from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from app.encoding import dumps
from app.metrics import LIVE_EVENTS

logger = logging.getLogger("belfry.pubsub")

PUBLISH_BATCH = 1000
IDLE_PING = 15.0  # seconds
TOPIC_KINDS = frozenset({"inbox", "deliveries", "credentials", "work"})
_FANNED_OUT: dict[str, Any] = {}


# --- topics and payloads -------------------------------------------------------------------


def _fanned_out(channel: str) -> Any:
    """The counter for a channel's kind (`belfry:inbox:<tenant>` counts as `inbox`)."""
    parts = channel.split(":", 2)
    kind = parts[1] if len(parts) > 1 else channel
    counter = _FANNED_OUT.get(kind)
    if counter is None:
        counter = _FANNED_OUT[kind] = LIVE_EVENTS.labels(kind if kind in TOPIC_KINDS else "other")
    return counter


def inbox_topic(tenant_id: UUID | str) -> str:
    return f"belfry:inbox:{tenant_id}"


class Signal(Enum):
    """Markers a subscriber receives besides events."""

    RESYNC = "resync"  # events may have been missed: re-read the current state


class InboxEventKind(StrEnum):
    SYNC = "SYNC"
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"


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
    read_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, n: Any) -> "NotificationPayload":
        return cls(
            id=str(n.id),
            category=n.category,
            title=n.title,
            body=n.body,
            link=n.link,
            data=n.data,
            read_at=n.read_at,
            created_at=n.created_at,
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
            read_at=row.get("read_at"),
            created_at=row["created_at"],
        )

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def content(self) -> dict[str, Any]:
        """Everything but the id (see encode_inbox)."""
        return {
            "category": self.category,
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "data": self.data,
            "read_at": self.read_at,
            "created_at": self.created_at,
        }

    def same_content(self, other: "NotificationPayload") -> bool:
        """Equal in everything but the id."""
        return (
            self.category == other.category
            and self.title == other.title
            and self.body == other.body
            and self.link == other.link
            and self.data == other.data
            and self.read_at == other.read_at
            and self.created_at == other.created_at
        )


@dataclass(slots=True)
class InboxMessage:
    """One change to one user's inbox, with the unread count that followed it.

    `all` means every notification in scope changed (mark all read, delete all read); the
    scope is `category` when set. `categories` names the categories touched."""

    kind: InboxEventKind
    unread_count: int
    notification: NotificationPayload | None = None
    notification_ids: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    all: bool = False
    category: str | None = None

    def touches(self, category: str | None) -> bool:
        """Could this change move the unread count of `category` (None: of everything)?"""
        if category is None or category in self.categories:
            return True
        return self.all and self.category in (None, category)


# On the wire a batch carries what its messages share once, then per user: the user id, the
# unread count and the notification ids. A notification travels without its id, which is the
# recipient's first notification id.
BATCH_SIZE = 1000


def encode_inbox(messages: Sequence[tuple[UUID | str, InboxMessage]]) -> list[str]:
    """Messages as few wire batches as possible, keeping their order."""
    batches: list[str] = []
    group: list[tuple[UUID | str, InboxMessage]] = []
    for user_id, message in messages:
        if group and (len(group) >= BATCH_SIZE or not _shared(group[0][1], message)):
            batches.append(_encode_group(group))
            group = []
        group.append((user_id, message))
    if group:
        batches.append(_encode_group(group))
    return batches


def encode_created(
    notification: NotificationPayload, to: Sequence[tuple[UUID, UUID, int]]
) -> list[str]:
    """One notification's content created for many users at once, given per user as (user id,
    notification id, unread count): a publish needs no InboxMessage per recipient."""
    change = InboxMessage(
        kind=InboxEventKind.CREATED,
        unread_count=0,
        notification=notification,
        categories=[notification.category],
    )
    return [
        _wire(change, [(user_id, unread, [nid]) for user_id, nid, unread in to[i : i + BATCH_SIZE]])
        for i in range(0, len(to), BATCH_SIZE)
    ]


def _shared(a: InboxMessage, b: InboxMessage) -> bool:
    if (a.kind, a.categories, a.all, a.category) != (b.kind, b.categories, b.all, b.category):
        return False
    if a.notification is None or b.notification is None:
        return a.notification is b.notification
    return a.notification.same_content(b.notification)


def _encode_group(group: list[tuple[UUID | str, InboxMessage]]) -> str:
    return _wire(group[0][1], [(u, m.unread_count, m.notification_ids) for u, m in group])


def _wire(change: InboxMessage, to: list[tuple[UUID | str, int, Sequence[UUID | str]]]) -> str:
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
    """The messages of a batch for the users in `wanted` (those with subscribers here)."""
    batch = json.loads(raw)
    kind = InboxEventKind(batch["kind"])
    shared = batch["notification"]
    if shared is not None:
        for key in ("read_at", "created_at"):
            if shared[key] is not None:
                shared[key] = datetime.fromisoformat(shared[key])
    categories, all_, category = batch["categories"], batch["all"], batch["category"]
    return [
        (
            user_id,
            InboxMessage(
                kind=kind,
                unread_count=unread,
                notification=None if shared is None else NotificationPayload(id=ids[0], **shared),
                notification_ids=ids,
                categories=categories,
                all=all_,
                category=category,
            ),
        )
        for user_id, unread, ids in batch["to"]
        if user_id in wanted
    ]


# --- subscribers ---------------------------------------------------------------------------

# A batch's (key, item) pairs for the keys in the container: the keys subscribed here.
Decoder = Callable[[str, Container[str]], Iterable[tuple[str, Any]]]


class Subscription:
    """What one subscriber reads: its messages, or a Signal. Holds at most `limit` items.

    A deque and one waiting future rather than an asyncio.Queue: every publish wakes each of
    its subscribers, and Queue.get looks up the running loop every time, which costs a system
    call (getpid) on Linux."""

    def __init__(self, limit: int) -> None:
        self._items: deque[Any] = deque()
        self._limit = limit
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self.overflows = 0

    def offer(self, item: Any) -> None:
        if len(self._items) >= self._limit:
            # The reader fell behind: drop the backlog and let it re-read the current state.
            self.overflows += 1
            self.signal(Signal.RESYNC)
        else:
            self._put(item)

    def signal(self, signal: Signal) -> None:
        """Always delivered. Whatever is still queued is dropped: a resync re-reads the state
        those events would have changed."""
        self._items.clear()
        self._put(signal)

    def _put(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def pending(self) -> int:
        return len(self._items)


class Hub(Broadcast):
    """broadcaster's Broadcast with keyed, bounded local subscriptions, batches and resync.

    A channel carries batches; its `decode` turns one into (key, item) pairs, and each item goes
    to the subscriptions made for that channel and key."""

    def __init__(self, url: str, *, queue_limit: int = 100) -> None:
        scheme = urlparse(url).scheme
        if scheme in ("redis", "rediss"):
            super().__init__(backend=RedisBackend(url, on_reconnect=self.resync_all))
        elif scheme == "memory":
            super().__init__(url)
        else:
            raise ValueError(f"Unsupported broadcast URL {scheme}://: use memory:// or redis://")
        self.queue_limit = queue_limit
        self._subs: dict[str, dict[str, set[Subscription]]] = {}
        self._decoders: dict[str, Decoder] = {}

    async def _listener(self) -> None:
        while True:
            event = await self._backend.next_published()
            by_key = self._subs.get(event.channel)
            if not by_key:
                continue
            try:
                items = self._decoders[event.channel](event.message, by_key)
            except (ValueError, KeyError, TypeError):
                logger.exception("undecodable message on %s dropped", event.channel)
                continue
            handed = 0
            for key, item in items:
                for subscription in by_key.get(key, ()):
                    subscription.offer(item)
                    handed += 1
            if handed:  # one update per message, however many subscribers it reached
                _fanned_out(event.channel).inc(handed)

    def resync_all(self) -> None:
        for by_key in self._subs.values():
            for subscriptions in by_key.values():
                for subscription in subscriptions:
                    subscription.signal(Signal.RESYNC)

    async def publish_many(self, messages: Iterable[tuple[str, str]]) -> None:
        batch = list(messages)
        if not batch:
            return
        if isinstance(self._backend, RedisBackend):
            await self._backend.publish_many(batch)
        else:
            for channel, message in batch:
                await self._backend.publish(channel, message)

    @contextlib.asynccontextmanager
    async def subscription(
        self, channel: str, key: str, *, decode: Decoder
    ) -> AsyncIterator[Subscription]:
        subscription = Subscription(self.queue_limit)
        self._decoders[channel] = decode
        by_key = self._subs.setdefault(channel, {})
        first = not by_key
        by_key.setdefault(key, set()).add(subscription)
        try:
            if first:
                await self._backend.subscribe(channel)
            yield subscription
        finally:
            subscribers = by_key[key]
            subscribers.discard(subscription)
            if not subscribers:
                del by_key[key]
            if not by_key and self._subs.get(channel) is by_key:
                del self._subs[channel]
                self._decoders.pop(channel, None)
                with contextlib.suppress(Exception):  # a dead connection forgets it anyway
                    await self._backend.unsubscribe(channel)

    def subscriber_count(self) -> int:
        return sum(len(s) for by_key in self._subs.values() for s in by_key.values())


# --- our Redis backend ---------------------------------------------------------------------


class RedisBackend(BroadcastBackend):
    """One PubSub connection that is rebuilt, with every channel, whenever it breaks."""

    def __init__(self, url: str, *, on_reconnect: Callable[[], None]) -> None:
        self._url = url
        self._on_reconnect = on_reconnect
        self._publisher = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
        self._channels: set[str] = set()
        self._pubsub: Any = None
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def connect(self) -> None:
        self._task = asyncio.create_task(self._run(), name="belfry-redis-pubsub")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=2)
        if not self._connected.is_set():
            logger.warning(
                "Redis %s is not reachable yet; retrying in the background", self._safe_url
            )

    async def disconnect(self) -> None:
        self._stopping = True
        # Cancelled again until it ends: a cancellation that lands inside redis-py while it
        # (re)connects can be turned into a connection error, which the loop would survive.
        while self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task], timeout=1)
        await self._publisher.aclose()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        await self._send("subscribe", channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        await self._send("unsubscribe", channel)

    async def _send(self, command: str, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # the next connection subscribes to everything in self._channels
        try:
            await getattr(pubsub, command)(channel)
        except (RedisError, OSError) as error:
            logger.warning(
                "Redis %s %s failed (%s); the reconnect will redo it", command, channel, error
            )

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def publish_many(self, messages: list[tuple[str, str]]) -> None:
        """One round trip per batch rather than one per recipient."""
        for start in range(0, len(messages), PUBLISH_BATCH):
            async with self._publisher.pipeline(transaction=False) as pipe:
                for channel, message in messages[start : start + PUBLISH_BATCH]:
                    pipe.publish(channel, message)
                await pipe.execute()

    async def next_published(self) -> Event:
        return await self._events.get()

    @property
    def _safe_url(self) -> str:
        parsed = urlparse(self._url)
        return f"{parsed.scheme}://{parsed.hostname}:{parsed.port or 6379}"

    async def _run(self) -> None:
        delay = 0.1
        ever_connected = False
        while not self._stopping:
            client = redis.Redis.from_url(
                self._url,
                socket_connect_timeout=2,
                socket_keepalive=True,
                retry=Retry(NoBackoff(), 0),  # we reconnect ourselves, and then resync
            )
            try:
                pubsub = client.pubsub()
                # A standing channel keeps the connection readable with no subscribers.
                await pubsub.subscribe("belfry:control", *self._channels)
                self._pubsub = pubsub
                self._connected.set()
                if ever_connected:
                    logger.info("Redis %s is back; re-subscribed", self._safe_url)
                # Anything published while we were not listening is lost to our subscribers.
                self._on_reconnect()
                ever_connected, delay = True, 0.1
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if self._connected.is_set():
                    logger.warning(
                        "Redis %s connection lost (%s); reconnecting", self._safe_url, error
                    )
            finally:
                self._pubsub = None
                self._connected.clear()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 5.0)

    async def _read(self, pubsub: Any) -> None:
        """Reads until the connection fails. A half-open TCP connection never fails by itself,
        so a watchdog PINGs when idle and gives up on a connection silent for too long."""
        loop = asyncio.get_running_loop()
        last_seen = loop.time()

        async def receive() -> None:
            nonlocal last_seen
            while True:
                message = await pubsub.get_message(timeout=None)  # blocks; no timer per message
                last_seen = loop.time()
                if message is not None and message["type"] == "message":
                    self._events.put_nowait(
                        Event(channel=message["channel"].decode(), message=message["data"].decode())
                    )

        async def watch() -> None:
            while True:
                await asyncio.sleep(IDLE_PING)
                if loop.time() - last_seen > 2 * IDLE_PING:
                    raise RedisConnectionError("no traffic, not even an answer to PING")
                await pubsub.ping()

        tasks = [asyncio.ensure_future(receive()), asyncio.ensure_future(watch())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


# --- the process-wide hub ------------------------------------------------------------------

_hub: Hub | None = None


def hub() -> Hub:
    if _hub is None:
        raise RuntimeError("The broadcast hub is not connected; start it with connect_hub()")
    return _hub


@contextlib.asynccontextmanager
async def connect_hub(url: str, *, queue_limit: int) -> AsyncIterator[Hub]:
    global _hub
    instance = Hub(url, queue_limit=queue_limit)
    await instance.connect()
    _hub = instance
    try:
        yield instance
    finally:
        _hub = None
        await instance.disconnect()


async def publish_inbox(
    tenant_id: UUID | str, messages: Sequence[tuple[UUID | str, InboxMessage]]
) -> None:
    """Tell each user's subscribers; call after the change committed."""
    await _publish(inbox_topic(tenant_id), encode_inbox(messages), "inbox")


async def publish_created(
    tenant_id: UUID | str,
    notification: NotificationPayload,
    to: Sequence[tuple[UUID, UUID, int]],
) -> None:
    """A notification created for many users; `to` as encode_created takes it."""
    await _publish(inbox_topic(tenant_id), encode_created(notification, to), "inbox")


async def _publish(topic: str, wires: list[str], what: str) -> None:
    """Never raises: the database already holds the truth and subscribers resync after any
    gap."""
    if not wires or _hub is None:
        return
    try:
        await _hub.publish_many([(topic, wire) for wire in wires])
    except (RedisError, OSError) as error:
        logger.warning("%d batch(es) of %s events not sent: %s", len(wires), what, error)


# --- worker wake-ups -----------------------------------------------------------------------

WORK_TOPIC = "belfry:work"


def decode_wake(raw: str, wanted: Container[str]) -> list[tuple[str, str]]:
    return [("all", raw)]


async def wake_workers() -> None:
    """New deliveries are queued. A lost wake-up only delays them: workers also poll."""
    if _hub is None:
        return
    try:
        await _hub.publish_many([(WORK_TOPIC, "1")])
    except (RedisError, OSError) as error:
        logger.warning("worker wake-up not sent: %s", error)


# --- credential changes --------------------------------------------------------------------

CREDENTIALS_TOPIC = "belfry:credentials"


@dataclass(frozen=True, slots=True)
class UserErased:
    """A user erased through some process: every process lets go of what it holds for them."""

    kind: ClassVar[str] = "user_erased"
    tenant_id: UUID
    user_id: UUID
    external_id: str


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked:
    kind: ClassVar[str] = "api_key_revoked"
    tenant_id: UUID
    key_id: UUID


@dataclass(frozen=True, slots=True)
class RoleChanged:
    kind: ClassVar[str] = "role_changed"
    tenant_id: UUID
    user_id: UUID
    role: str  # a models.Role value


CredentialChange = UserErased | ApiKeyRevoked | RoleChanged


def decode_credential_change(
    raw: str, wanted: Container[str]
) -> list[tuple[str, CredentialChange]]:
    data = json.loads(raw)
    tenant_id = UUID(data["tenant_id"])
    change: CredentialChange
    match data["kind"]:
        case UserErased.kind:
            change = UserErased(tenant_id, UUID(data["user_id"]), str(data["external_id"]))
        case ApiKeyRevoked.kind:
            change = ApiKeyRevoked(tenant_id, UUID(data["key_id"]))
        case RoleChanged.kind:
            change = RoleChanged(tenant_id, UUID(data["user_id"]), str(data["role"]))
        case unknown:
            raise ValueError(f"unknown credential change {unknown!r}")
    return [("all", change)]


async def publish_credential_change(change: CredentialChange) -> None:
    """Call after the change committed. Never raises: a process that missed it re-checks what
    it holds when it resyncs (services.credentials), and requests read the database anyway."""
    wire = dumps({"kind": change.kind, **asdict(change)})
    await _publish(CREDENTIALS_TOPIC, [wire], "credential")


# --- delivery status -----------------------------------------------------------------------

ALL = "*"  # the key administrators subscribe with: every delivery of the tenant


def deliveries_topic(tenant_id: UUID | str) -> str:
    return f"belfry:deliveries:{tenant_id}"


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
    def of(cls, d: Any) -> "DeliveryPayload":
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


async def publish_delivery(delivery: Any) -> None:
    """One delivery's new state: a Delivery row, whose fields are DeliveryPayload's."""
    row = {name: getattr(delivery, name) for name in DELIVERY_FIELDS}
    await publish_deliveries(delivery.tenant_id, [row])


async def publish_deliveries(tenant_id: UUID | str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows as encode_deliveries takes them. Never raises, like publish_inbox: the log in the
    database is the truth."""
    if rows:
        await _publish(deliveries_topic(tenant_id), encode_deliveries(rows), "delivery")
