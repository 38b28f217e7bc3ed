"""Credentials that change while connections hold them: a user erased, an API key revoked, a
user's role changed, a tenant's signing secret rotated. Each change is a hub message
(CREDENTIALS_TOPIC) that every process follows; a process that may have missed some re-checks
everything it holds against the database."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol
from uuid import UUID

from app.auth import (
    ApiKeyPrincipal,
    Credential,
    CredentialGone,
    CredentialKind,
    Principal,
    SigningState,
)
from app.db import as_uuid
from app.live.credential_changes import (
    ApiKeyRevoked,
    CredentialChange,
    RoleChanged,
    SigningSecretRotated,
    UserErased,
)
from app.live.hub import hub
from app.live.mailbox import Mailbox
from app.live.messages import ALL, Signal
from app.live.topics import CREDENTIALS
from app.models import ApiKey, Role, Tenant, User
from app.services import audience

logger = logging.getLogger("belfry.credentials")

LOOKUP_BATCH = 500


class CredentialHolder(Protocol):
    """What a process keeps open on credentials (a server's websockets and its subscriptions
    streamed over HTTP)."""

    def held(self) -> list[Credential]: ...

    def holds(self, credential: Credential) -> bool: ...

    def change_role(self, credential: Credential, role: Role) -> None: ...

    def retire_signing_secrets(self, tenant_id: UUID, state: SigningState) -> None:
        """What the tenant's users hold on a token signed with a secret since rotated ends
        when that secret's grace does (at once if it has ended)."""

    async def end(self, credential: Credential, why: CredentialGone) -> None: ...


async def current(principal: Principal) -> Principal | None:
    """The principal as the database has it now: None once its user is erased or its key
    revoked; a user's role as it is now, and the grace of the secret that signed its token
    if that has been rotated."""
    if isinstance(principal, ApiKeyPrincipal):
        live = await ApiKey.exists(
            id=principal.key_id, tenant_id=principal.tenant_id, revoked_at__isnull=True
        )
        return principal if live else None
    role = (await _found([principal.credential], _roles)).get(principal.user_id)
    if role is None:
        return None
    state = (await _signing_states({principal.tenant_id})).get(principal.tenant_id)
    return None if state is None else replace(principal.signed_under(state), role=Role(role))


@contextlib.asynccontextmanager
async def following_credentials(holder: CredentialHolder | None = None) -> AsyncIterator[None]:
    """While the block runs, a credential change made through any process reaches this one:
    an erased user leaves the recipients cache, and `holder` ends or updates what it holds.
    Subscribed before the block starts, so nothing changed once the process is up is missed."""
    async with hub().subscription(CREDENTIALS, ALL) as changes:
        task = asyncio.create_task(_follow(changes, holder), name="credentials")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _follow(changes: Mailbox[CredentialChange], holder: CredentialHolder | None) -> None:
    # One change at a time, in the order they came: the last word on a role is the last read.
    while True:
        item = await changes.get()
        try:
            if item is Signal.RESYNC:  # changes may have been missed
                await _recheck(holder)
            else:
                await _apply(item, holder)
        except Exception:  # keep following; the next resync catches up
            logger.exception("a credential change was not applied in this process")


async def _apply(change: CredentialChange, holder: CredentialHolder | None) -> None:
    if isinstance(change, UserErased):
        audience.forget_user(change.tenant_id, change.external_id)
    if holder is None:
        return
    if isinstance(change, UserErased):
        user = Credential(CredentialKind.USER, change.tenant_id, change.user_id)
        await holder.end(user, CredentialGone.USER_ERASED)
    elif isinstance(change, ApiKeyRevoked):
        key = Credential(CredentialKind.API_KEY, change.tenant_id, change.key_id)
        await holder.end(key, CredentialGone.API_KEY_REVOKED)
    elif isinstance(change, SigningSecretRotated):
        state = SigningState(change.version, change.previous_until)
        holder.retire_signing_secrets(change.tenant_id, state)
    elif isinstance(change, RoleChanged):
        user = Credential(CredentialKind.USER, change.tenant_id, change.user_id)
        if holder.holds(user):
            holder.change_role(user, Role(change.role))  # at once, for the next operation
            # Changes published by several processes may arrive out of order: the database
            # has the last word.
            await _recheck_users(holder, [user])


async def _recheck(holder: CredentialHolder | None) -> None:
    """The recipients cache starts over, and the holder lets go of erased users and revoked
    keys, takes up the roles users have now, and the signing secrets' rotations."""
    audience.forget_all_users()
    if holder is None:
        return
    held = holder.held()
    users = [c for c in held if c.kind is CredentialKind.USER]
    await _recheck_users(holder, users)
    for tenant_id, state in (await _signing_states({c.tenant_id for c in users})).items():
        holder.retire_signing_secrets(tenant_id, state)
    keys = [c for c in held if c.kind is CredentialKind.API_KEY]
    unrevoked = await _found(keys, _unrevoked)
    for key in keys:
        if key.id not in unrevoked:
            await holder.end(key, CredentialGone.API_KEY_REVOKED)


async def _recheck_users(holder: CredentialHolder, users: list[Credential]) -> None:
    roles = await _found(users, _roles)
    for user in users:
        role = roles.get(user.id)
        if role is None:
            await holder.end(user, CredentialGone.USER_ERASED)
        else:
            holder.change_role(user, Role(role))


async def _signing_states(tenant_ids: set[UUID]) -> dict[UUID, SigningState]:
    """Each tenant's signing state, read in batches."""
    ids = list(tenant_ids)
    states: dict[UUID, SigningState] = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        rows = await Tenant.filter(id__in=ids[start : start + LOOKUP_BATCH]).values_list(
            "id", "signing_secret_version", "previous_signing_secret_until"
        )
        for tenant_id, version, previous_until in rows:
            states[as_uuid(tenant_id)] = SigningState(version, previous_until)
    return states


def _roles(ids: list[UUID]) -> Awaitable[list[tuple[Any, ...]]]:
    return User.filter(id__in=ids).values_list("id", "role")


def _unrevoked(ids: list[UUID]) -> Awaitable[list[tuple[Any, ...]]]:
    return ApiKey.filter(id__in=ids, revoked_at__isnull=True).values_list("id")


async def _found(
    credentials: Iterable[Credential],
    lookup: Callable[[list[UUID]], Awaitable[list[tuple[Any, ...]]]],
) -> dict[UUID, Any]:
    """Which of the credentials' ids the lookup finds, in batches: id to the row's second
    value (None when it has none)."""
    ids = [c.id for c in credentials]
    found: dict[UUID, Any] = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        for row in await lookup(ids[start : start + LOOKUP_BATCH]):
            found[as_uuid(row[0])] = row[1] if len(row) > 1 else None
    return found
