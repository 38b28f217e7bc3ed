"""Each tenant's event-category catalogue: what it may publish, and how each kind behaves."""

import contextlib
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from uuid import UUID, uuid4

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.db import bulk_insert, read_only
from app.errors import BadUserInput
from app.models import Channel, EventCategory, EventCategoryRow, Tenant
from app.services.validation import check_category, check_length

DAY = 24 * 3600
DEFAULT_CHANNELS = [Channel.IN_APP, Channel.EMAIL]
OTHER = "Other"
# Emails for these are limited to one per recipient per day, so a flapping condition can't
# flood an inbox.
FLAPPING = {"billing.low_balance", "billing.balance_depleted", "agent.failed", "agent.degraded"}
CRITICAL = {"billing.balance_depleted", "billing.payment_failed", "agent.failed"}

SEED: dict[str, dict[str, str]] = {
    "Billing": {
        "billing.low_balance": "The balance is running low",
        "billing.balance_depleted": "The balance has run out",
        "billing.payment_failed": "A payment failed",
        "billing.topup_confirmed": "A top-up went through",
        "billing.invoice_ready": "An invoice is ready",
    },
    "Calls": {
        "call.first_call": "The first call came in",
        "call.daily_summary": "Yesterday's calls",
        "call.monthly_summary": "Last month's calls",
        "call.volume_spike": "Call volume is unusually high",
    },
    "Agents": {
        "agent.published": "An agent was published",
        "agent.failed": "An agent failed",
        "agent.degraded": "An agent is degraded",
        "agent.number_assigned": "A number was assigned to an agent",
    },
    "System": {
        "system.api_key_created": "An API key was created",
        "system.api_key_revoked": "An API key was revoked",
        "system.login_new_device": "A login from a new device",
        "system.maintenance": "Planned maintenance",
    },
    "Team": {
        "team.member_invited": "A member was invited",
        "team.member_joined": "A member joined",
    },
    OTHER: {
        "auth.welcome": "Welcome",
        "number.porting_complete": "A number finished porting",
    },
}


@dataclass(frozen=True, slots=True)
class CategoryFields:
    """What `upsertEventCategory` may set; None means "leave as is" (or the default)."""

    group: str | None = None
    description: str | None = None
    default_channels: list[Channel] | None = None
    critical: bool | None = None
    email_rate_limit_seconds: int | None = None


async def seed(*, tenant_id: UUID) -> None:
    rows = [
        EventCategoryRow(
            id=uuid4(),
            tenant_id=tenant_id,
            key=key,
            group=group,
            description=description,
            default_channels=[c.value for c in DEFAULT_CHANNELS],
            critical=key in CRITICAL,
            email_rate_limit_seconds=DAY if key in FLAPPING else None,
        )
        for group, categories in SEED.items()
        for key, description in categories.items()
    ]
    await bulk_insert(EventCategory, rows)


async def grouped(*, tenant_id: UUID) -> list[tuple[str, list[EventCategory]]]:
    categories = await EventCategory.filter(tenant_id=tenant_id).order_by("group", "key")
    return [(group, list(items)) for group, items in groupby(categories, key=lambda c: c.group)]


async def get(*, tenant_id: UUID, key: str) -> EventCategory | None:
    return await EventCategory.get_or_none(tenant_id=tenant_id, key=key)


@dataclass(frozen=True, slots=True)
class Joining:
    """The entry a category gets when publishing it adds it to the catalogue."""

    group: str
    description: str
    default_channels: tuple[Channel, ...]


# A free category goes to the inbox alone, as it did before it joined, until preferences say more.
FREE = Joining(OTHER, "Published as a free category", (Channel.IN_APP,))


async def require_publishable(
    *, tenant_id: UUID, key: str, joins: bool = True
) -> EventCategory | None:
    """The category to publish under (to read, not to save); unknown keys only where the
    tenant allows free ones. A free one joins the catalogue (FREE), so its preferences can be
    set, unless `joins` is false: then it stays out, and None stands for it."""
    category = await read_only(EventCategory, {"tenant_id": tenant_id, "key": key})
    if category is not None:
        return category
    if not await Tenant.exists(id=tenant_id, allow_free_categories=True):
        raise BadUserInput(
            f"Unknown category {key!r}: add it with upsertEventCategory, or allow free "
            "categories in the tenant settings",
            field="category",
        )
    return await _join(tenant_id, key, FREE) if joins else None


async def joined(*, tenant_id: UUID, key: str, joining: Joining) -> EventCategory:
    """The catalogue's entry for `key`, added as `joining` says if there is none."""
    category = await read_only(EventCategory, {"tenant_id": tenant_id, "key": key})
    return category if category is not None else await _join(tenant_id, key, joining)


async def _join(tenant_id: UUID, key: str, joining: Joining) -> EventCategory:
    """Adds the entry once, however many publishes race to add it: the losers read the
    winner's. In the caller's transaction, if any, as a savepoint, so losing does not abort it."""
    with contextlib.suppress(IntegrityError):
        async with in_transaction():
            return await EventCategory.create(
                tenant_id=tenant_id,
                key=key,
                group=joining.group,
                description=joining.description,
                default_channels=[c.value for c in joining.default_channels],
            )
    return await EventCategory.get(tenant_id=tenant_id, key=key)


async def upsert(*, tenant_id: UUID, key: str, fields: CategoryFields) -> EventCategory:
    check_category(key, field="key")
    changes = _validated(fields)
    category = await get(tenant_id=tenant_id, key=key)
    if category is None:
        defaults = {"group": OTHER, "default_channels": [c.value for c in DEFAULT_CHANNELS]}
        return await EventCategory.create(tenant_id=tenant_id, key=key, **{**defaults, **changes})
    if changes:
        await EventCategory.filter(id=category.id).update(**changes)
        await category.refresh_from_db()
    return category


def _validated(fields: CategoryFields) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if fields.group is not None:
        check_length("group", fields.group, 100, required=True)
        changes["group"] = fields.group.strip()
    if fields.description is not None:
        check_length("description", fields.description, 500)
        changes["description"] = fields.description
    if fields.default_channels is not None:
        changes["default_channels"] = [c.value for c in dict.fromkeys(fields.default_channels)]
    if fields.critical is not None:
        changes["critical"] = fields.critical
    if fields.email_rate_limit_seconds is not None:
        seconds = fields.email_rate_limit_seconds
        if not 0 <= seconds <= 30 * DAY:
            raise BadUserInput(
                "emailRateLimitSeconds must be 0 (no limit) to 2592000 (30 days)",
                field="emailRateLimitSeconds",
            )
        changes["email_rate_limit_seconds"] = seconds or None
    return changes
