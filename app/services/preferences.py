"""Who gets which channel for which category: catalogue default < tenant-wide < personal.

`channels_for_many` (for one recipient, `channels_for`) is the one answer routing asks for."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError

from app.db import batches, connection, is_in, placeholders, read_only
from app.errors import BadUserInput
from app.models import CHANNEL_FIELDS, Channel, EventCategory, TenantPreference, UserPreference
from app.models.preferences import ChannelSwitches
from app.services import catalog
from app.services.validation import check_category

LOOKUP_BATCH = 1000


class Source(StrEnum):
    """Where an effective value came from."""

    CATALOGUE = "CATALOGUE"
    TENANT = "TENANT"
    USER = "USER"
    CRITICAL = "CRITICAL"  # in-app is always on for a critical category


class Scope(StrEnum):
    TENANT = "TENANT"
    USER = "USER"
    EFFECTIVE = "EFFECTIVE"


@dataclass(frozen=True, slots=True)
class CategoryPreference:
    category: str
    scope: Scope
    values: dict[Channel, bool | None]  # None: not set at this scope
    sources: dict[Channel, Source]  # EFFECTIVE only


async def update_tenant(
    *, tenant_id: UUID, category: str, changes: dict[Channel, bool | None]
) -> CategoryPreference:
    known = await _category(tenant_id, category)
    _check_critical(known, changes)
    row = await _upsert(TenantPreference, {"tenant_id": tenant_id}, category, changes)
    return _as_preference(category, Scope.TENANT, row)


async def update_user(
    *, tenant_id: UUID, user_id: UUID, category: str, changes: dict[Channel, bool | None]
) -> CategoryPreference:
    known = await _category(tenant_id, category)
    _check_critical(known, changes)
    row = await _upsert(UserPreference, {"user_id": user_id}, category, changes)
    return _as_preference(category, Scope.USER, row)


async def _category(tenant_id: UUID, key: str) -> EventCategory:
    check_category(key)
    category = await catalog.get(tenant_id=tenant_id, key=key)
    if category is None:
        raise BadUserInput(f"Unknown category {key!r}", field="category")
    return category


def _check_critical(category: EventCategory, changes: dict[Channel, bool | None]) -> None:
    if category.critical and changes.get(Channel.IN_APP) is False:
        raise BadUserInput(
            f"{category.key} is critical: its in-app notifications cannot be switched off",
            field="inApp",
        )


async def _upsert(
    model: type[TenantPreference] | type[UserPreference],
    owner: dict[str, Any],
    category: str,
    changes: dict[Channel, bool | None],
) -> ChannelSwitches:
    """Fields left out stay unchanged; the first update creates the row."""
    values: dict[str, Any] = {CHANNEL_FIELDS[c]: value for c, value in changes.items()}
    for _ in range(2):  # a racing first update may create the row between our two steps
        row = await model.get_or_none(**owner, category=category)
        if row is not None:
            if values:
                await model.filter(id=row.id).update(**values)
                await row.refresh_from_db()
            return row
        try:
            return await model.create(**owner, category=category, **values)
        except IntegrityError:
            continue
    raise AssertionError("unreachable")


def _as_preference(category: str, scope: Scope, row: ChannelSwitches | None) -> CategoryPreference:
    values = {c: (getattr(row, f) if row else None) for c, f in CHANNEL_FIELDS.items()}
    return CategoryPreference(category=category, scope=scope, values=values, sources={})


async def listing(
    *, tenant_id: UUID, user_id: UUID | None, scope: Scope
) -> list[CategoryPreference]:
    """One entry per catalogue category, in catalogue order."""
    categories = [c for _, items in await catalog.grouped(tenant_id=tenant_id) for c in items]
    tenant_rows = {r.category: r for r in await TenantPreference.filter(tenant_id=tenant_id)}
    user_rows = (
        {r.category: r for r in await UserPreference.filter(user_id=user_id)} if user_id else {}
    )
    if scope is Scope.TENANT:
        return [_as_preference(c.key, scope, tenant_rows.get(c.key)) for c in categories]
    if scope is Scope.USER:
        return [_as_preference(c.key, scope, user_rows.get(c.key)) for c in categories]
    return [merge(c, tenant_rows.get(c.key), user_rows.get(c.key)) for c in categories]


def merge(
    category: EventCategory, tenant: ChannelSwitches | None, user: ChannelSwitches | None
) -> CategoryPreference:
    defaults = set(category.default_channels)
    values: dict[Channel, bool | None] = {}
    sources: dict[Channel, Source] = {}
    for channel, field in CHANNEL_FIELDS.items():
        value, source = channel.value in defaults, Source.CATALOGUE
        for row, level in ((tenant, Source.TENANT), (user, Source.USER)):
            if row is not None and getattr(row, field) is not None:
                value, source = getattr(row, field), level
        if channel is Channel.IN_APP and category.critical:
            value, source = True, Source.CRITICAL
        values[channel], sources[channel] = value, source
    return CategoryPreference(
        category=category.key, scope=Scope.EFFECTIVE, values=values, sources=sources
    )


async def channels_for(*, tenant_id: UUID, user_id: UUID, category: str) -> frozenset[Channel]:
    """The channels this recipient gets for this category."""
    known = await catalog.get(tenant_id=tenant_id, key=category)
    return (await channels_for_many(tenant_id=tenant_id, user_ids=[user_id], category=known))[
        user_id
    ]


async def channels_for_many(
    *, tenant_id: UUID, user_ids: list[UUID], category: EventCategory | None
) -> dict[UUID, frozenset[Channel]]:
    """The same answer for many recipients at once, in a few queries. A category outside the
    catalogue (allowed only when the tenant publishes free categories) goes to the inbox.
    Recipients with the same answer share one (immutable) set."""
    if category is None:
        return dict.fromkeys(user_ids, frozenset({Channel.IN_APP}))
    tenant = await read_only(TenantPreference, {"tenant_id": tenant_id, "category": category.key})
    personal: dict[UUID, UserPreference] = {}
    with_own = await _with_own_preference(user_ids, category.key)
    for start in range(0, len(with_own), LOOKUP_BATCH):
        batch = with_own[start : start + LOOKUP_BATCH]
        for row in await UserPreference.filter(user_id__in=batch, category=category.key):
            personal[row.user_id] = row

    def channels_of(merged: CategoryPreference) -> frozenset[Channel]:
        return frozenset(c for c in CHANNEL_FIELDS if merged.values[c])

    # Most recipients have no choice of their own.
    answers = dict.fromkeys(user_ids, channels_of(merge(category, tenant, None)))
    for user_id, own in personal.items():
        answers[user_id] = channels_of(merge(category, tenant, own))
    return answers


async def _with_own_preference(user_ids: list[UUID], category: str) -> list[str]:
    """The few recipients with a preference of their own for the category, in plain SQL: a
    Tortoise filter over thousands of ids costs more in Python than the query in the database."""
    conn = connection()
    found: list[str] = []
    for batch in batches(conn, [str(u) for u in user_ids]):
        condition, values = is_in(conn, "user_id", batch, start=1)
        rows = await conn.execute_query_dict(
            f"SELECT user_id FROM user_preferences WHERE category = {placeholders(conn, 1)[0]} "
            f"AND {condition}",
            [category, *values],
        )
        found += [str(row["user_id"]) for row in rows]
    return found
