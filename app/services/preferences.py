"""Who gets which channel for which category: catalogue default < tenant-wide < personal.

A level sets a channel with a row of its own (category, channel, enabled); a channel with no
row there is left to the level below. `channels_for_many` (for one recipient,
`channels_for`) is the one answer routing asks for."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict, TypeVar
from uuid import UUID, uuid4

from tortoise.transactions import in_transaction

from app import clock
from app.db import as_uuid, batches, connection, is_in, placeholders, select_rows
from app.errors import BadUserInput
from app.models import (
    Channel,
    EventCategory,
    TenantChannelPreference,
    UserChannelPreference,
)
from app.services import catalog
from app.services.validation import check_category

# The channels one level sets, each on or off; the rest it leaves to the level below.
Switches = Mapping[Channel, bool]


class _Switch(TypedDict):
    channel: Channel
    enabled: bool


class _CategorySwitch(_Switch):
    category: str


NONE_SET: Switches = {}
PreferenceModel = type[TenantChannelPreference] | type[UserChannelPreference]
P = TypeVar("P", TenantChannelPreference, UserChannelPreference)


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
    values: dict[Channel, bool | None]  # every channel; None: not set at this scope
    sources: dict[Channel, Source]  # EFFECTIVE only


@dataclass(frozen=True, slots=True)
class Change:
    """One channel's switch as an update sets it; None clears it, leaving the channel to the
    level below."""

    channel: Channel
    enabled: bool | None
    field: str = "channels"  # where the input gave it, for errors: "inApp", "channels[0]"


async def update_tenant(
    *, tenant_id: UUID, category: str, changes: Sequence[Change]
) -> CategoryPreference:
    await _check(tenant_id, category, changes)
    await _save(TenantChannelPreference, tenant_id, category, changes)
    switches = await _switches(TenantChannelPreference, tenant_id, category)
    return _as_preference(category, Scope.TENANT, switches)


async def update_user(
    *, tenant_id: UUID, user_id: UUID, category: str, changes: Sequence[Change]
) -> CategoryPreference:
    await _check(tenant_id, category, changes)
    await _save(UserChannelPreference, user_id, category, changes)
    switches = await _switches(UserChannelPreference, user_id, category)
    return _as_preference(category, Scope.USER, switches)


async def _check(tenant_id: UUID, key: str, changes: Sequence[Change]) -> None:
    category = await _category(tenant_id, key)
    named: set[Channel] = set()
    for change in changes:
        if change.channel in named:
            raise BadUserInput(
                f"{change.field}: {change.channel.value} is set more than once", field=change.field
            )
        named.add(change.channel)
        if category.critical and change.channel is Channel.IN_APP and change.enabled is False:
            raise BadUserInput(
                f"{category.key} is critical: its in-app notifications cannot be switched off",
                field=change.field,
            )


async def _category(tenant_id: UUID, key: str) -> EventCategory:
    check_category(key)
    category = await catalog.get(tenant_id=tenant_id, key=key)
    if category is None:
        raise BadUserInput(f"Unknown category {key!r}", field="category")
    return category


def _owner_column(model: PreferenceModel) -> str:
    return "tenant_id" if model is TenantChannelPreference else "user_id"


async def _save(model: type[P], owner_id: UUID, category: str, changes: Sequence[Change]) -> None:
    """Channels left out stay as they are. One upsert, so a racing first update of the same
    switch cannot fail on the unique key."""
    owner = _owner_column(model)
    now = clock.now()
    switched = [
        model(
            id=uuid4(),
            **{owner: owner_id},
            category=category,
            channel=change.channel,
            enabled=change.enabled,
            updated_at=now,
        )
        for change in changes
        if change.enabled is not None
    ]
    cleared = [change.channel for change in changes if change.enabled is None]
    async with in_transaction():
        if switched:
            await model.bulk_create(
                switched,
                on_conflict=[owner, "category", "channel"],
                update_fields=["enabled", "updated_at"],
            )
        if cleared:
            await model.filter(**{owner: owner_id}, category=category, channel__in=cleared).delete()


async def _switches(model: PreferenceModel, owner_id: UUID, category: str) -> Switches:
    rows = await select_rows(model, _Switch, {_owner_column(model): owner_id, "category": category})
    return {row["channel"]: row["enabled"] for row in rows}


async def _by_category(model: PreferenceModel, owner_id: UUID) -> dict[str, dict[Channel, bool]]:
    rows = await select_rows(model, _CategorySwitch, {_owner_column(model): owner_id})
    found: dict[str, dict[Channel, bool]] = {}
    for row in rows:
        found.setdefault(row["category"], {})[row["channel"]] = row["enabled"]
    return found


def _as_preference(category: str, scope: Scope, switches: Switches) -> CategoryPreference:
    values = {channel: switches.get(channel) for channel in Channel}
    return CategoryPreference(category=category, scope=scope, values=values, sources={})


async def listing(
    *, tenant_id: UUID, user_id: UUID | None, scope: Scope
) -> list[CategoryPreference]:
    """One entry per catalogue category, in catalogue order."""
    categories = [c for _, items in await catalog.grouped(tenant_id=tenant_id) for c in items]
    tenant_wide = await _by_category(TenantChannelPreference, tenant_id)
    personal = await _by_category(UserChannelPreference, user_id) if user_id else {}
    if scope is Scope.TENANT:
        return [_as_preference(c.key, scope, tenant_wide.get(c.key, NONE_SET)) for c in categories]
    if scope is Scope.USER:
        return [_as_preference(c.key, scope, personal.get(c.key, NONE_SET)) for c in categories]
    return [
        merge(c, tenant_wide.get(c.key, NONE_SET), personal.get(c.key, NONE_SET))
        for c in categories
    ]


def merge(category: EventCategory, tenant: Switches, user: Switches) -> CategoryPreference:
    defaults = set(category.default_channels)
    values: dict[Channel, bool | None] = {}
    sources: dict[Channel, Source] = {}
    for channel in Channel:
        value, source = channel.value in defaults, Source.CATALOGUE
        for switches, level in ((tenant, Source.TENANT), (user, Source.USER)):
            if channel in switches:
                value, source = switches[channel], level
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
    tenant = await _switches(TenantChannelPreference, tenant_id, category.key)

    def channels_of(merged: CategoryPreference) -> frozenset[Channel]:
        return frozenset(c for c, on in merged.values.items() if on)

    # Most recipients have no choice of their own.
    answers = dict.fromkeys(user_ids, channels_of(merge(category, tenant, NONE_SET)))
    for user_id, own in (await _personal(user_ids, category.key)).items():
        answers[user_id] = channels_of(merge(category, tenant, own))
    return answers


async def _personal(user_ids: list[UUID], category: str) -> dict[UUID, dict[Channel, bool]]:
    """The switches of the few recipients with a choice of their own for the category, in
    plain SQL: a Tortoise filter over thousands of ids costs more in Python than the query in
    the database."""
    conn = connection()
    found: dict[UUID, dict[Channel, bool]] = {}
    for batch in batches(conn, [str(u) for u in user_ids]):
        condition, values = is_in(conn, "user_id", batch, start=1)
        rows = await conn.execute_query_dict(
            "SELECT user_id, channel, enabled FROM user_channel_preferences "
            f"WHERE category = {placeholders(conn, 1)[0]} AND {condition}",
            [category, *values],
        )
        for row in rows:
            found.setdefault(as_uuid(row["user_id"]), {})[Channel(row["channel"])] = bool(
                row["enabled"]
            )
    return found
