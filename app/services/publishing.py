"""Producers publish notifications to users named by their external ids."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import pubsub
from app.db import bulk_insert
from app.errors import BadUserInput
from app.models import Notification, User
from app.services import catalog, counters
from app.services.validation import check_category, check_external_id, check_length

MAX_RECIPIENTS = 10_000
LOOKUP_BATCH = 1000
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class NotificationDraft:
    category: str
    title: str
    body: str | None = None
    link: str | None = None
    data: dict[str, Any] | list[Any] | None = field(default=None)

    def validate(self) -> None:
        check_category(self.category)
        check_length("title", self.title, 500, required=True)
        check_length("body", self.body or "", 20_000)
        check_length("link", self.link or "", 2048)


@dataclass(frozen=True, slots=True)
class PublishResult:
    notification_ids: list[UUID]
    duplicate: bool

    @property
    def count(self) -> int:
        return len(self.notification_ids)


def _unique_recipients(recipients: list[str]) -> list[str]:
    unique = list(dict.fromkeys(r.strip() for r in recipients))
    if not unique:
        raise BadUserInput("recipients must name at least one user", field="recipients")
    if len(unique) > MAX_RECIPIENTS:
        raise BadUserInput(f"At most {MAX_RECIPIENTS} recipients per call", field="recipients")
    for external_id in unique:
        check_external_id(external_id, field="recipients")
    return unique


async def publish_notification(
    *,
    tenant_id: UUID,
    recipients: list[str],
    draft: NotificationDraft,
    idempotency_key: str | None = None,
) -> PublishResult:
    """One transaction writes every recipient's notification and counter. A retry with the same
    idempotency key returns the first result instead of writing again."""
    external_ids = _unique_recipients(recipients)
    draft.validate()
    await catalog.require_publishable(tenant_id=tenant_id, key=draft.category)
    if idempotency_key is not None:
        check_length("idempotencyKey", idempotency_key, 200, required=True)
        if earlier := await _earlier_result(tenant_id, idempotency_key, external_ids):
            return earlier
    for attempt in range(ATTEMPTS):
        try:
            ids, events = await _write(tenant_id, external_ids, draft, idempotency_key)
            await pubsub.publish_inbox(tenant_id, events)
            return PublishResult(notification_ids=ids, duplicate=False)
        except IntegrityError:
            # A concurrent publish won a race: either it used the same idempotency key (answer
            # with its result) or it created one of our new recipients (write again).
            if idempotency_key and (
                earlier := await _earlier_result(tenant_id, idempotency_key, external_ids)
            ):
                return earlier
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _write(
    tenant_id: UUID, external_ids: list[str], draft: NotificationDraft, idempotency_key: str | None
) -> tuple[list[UUID], list[tuple[UUID, pubsub.InboxMessage]]]:
    """Writes one notification per recipient; returns their ids and each recipient's event."""
    now = datetime.now(UTC)
    async with in_transaction():
        user_ids = await _resolve_recipients(tenant_id, external_ids)
        rows: list[dict[str, Any]] = [
            {
                "id": uuid4(),  # made here: a bulk insert returns no keys
                "tenant_id": tenant_id,
                "recipient_id": user_id,
                "category": draft.category,
                "title": draft.title,
                "body": draft.body,
                "link": draft.link,
                "data": draft.data,
                "idempotency_key": idempotency_key,
                "created_at": now,
            }
            for user_id in user_ids
        ]
        await bulk_insert(Notification, rows)
        await counters.add({(user_id, draft.category): (1, 1) for user_id in user_ids})
        unread = await counters.unread_totals(user_ids)
    return [row["id"] for row in rows], [
        (
            row["recipient_id"],
            pubsub.InboxMessage(
                kind=pubsub.InboxEventKind.CREATED,
                unread_count=unread[row["recipient_id"]],
                notification=pubsub.NotificationPayload.of_row(row),
                notification_ids=[str(row["id"])],
                categories=[draft.category],
            ),
        )
        for row in rows
    ]


async def _resolve_recipients(tenant_id: UUID, external_ids: list[str]) -> list[UUID]:
    """User ids in the order given; unknown external ids become new MEMBER users."""
    found: dict[str, UUID] = {}
    for start in range(0, len(external_ids), LOOKUP_BATCH):
        batch = external_ids[start : start + LOOKUP_BATCH]
        rows = await User.filter(tenant_id=tenant_id, external_id__in=batch).values_list(
            "external_id", "id"
        )
        found.update(rows)
    missing = [e for e in external_ids if e not in found]
    if missing:
        new_users = [User(id=uuid4(), tenant_id=tenant_id, external_id=e) for e in missing]
        await User.bulk_create(new_users, batch_size=500)
        found.update((u.external_id, u.id) for u in new_users)
    return [found[e] for e in external_ids]


async def _earlier_result(
    tenant_id: UUID, idempotency_key: str, external_ids: list[str]
) -> PublishResult | None:
    """What a publish with this key already wrote for these recipients. Looked up through the
    (recipient, idempotency key) unique index, so it costs the same for any table size."""
    rows: list[tuple[UUID, str]] = []
    for start in range(0, len(external_ids), LOOKUP_BATCH):
        rows += await Notification.filter(
            recipient__tenant_id=tenant_id,
            recipient__external_id__in=external_ids[start : start + LOOKUP_BATCH],
            idempotency_key=idempotency_key,
        ).values_list("id", "recipient__external_id")
    if not rows:
        return None
    position = {e: i for i, e in enumerate(external_ids)}
    rows.sort(key=lambda row: (position.get(row[1], len(position)), str(row[0])))
    return PublishResult(notification_ids=[row[0] for row in rows], duplicate=True)
