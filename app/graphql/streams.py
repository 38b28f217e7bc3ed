"""This process's subscriptions streamed over HTTP (multipart/mixed), by the credential each was
asked with, as app.sockets holds websockets: a credential revoked, erased or expired (or the
grace of the rotated signing secret of its token ending) ends its streams at once, and so does
the server stopping, which would otherwise wait for them; a changed role applies to their next
event. A stream that is ended has a last event saying why."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from app import clock
from app.auth import Credential, CredentialGone, SigningState, UserPrincipal
from app.errors import RateLimited, ServiceUnavailable, Unauthenticated
from app.graphql.context import Context
from app.models import Role
from app.sockets import CLOSES

STOPPING = GraphQLError(
    "The server is stopping: subscribe again (another server will take it)",
    extensions={"code": ServiceUnavailable.code},
)


@dataclass(slots=True, eq=False)
class _Held:
    context: Context
    credential: Credential | None
    ending: asyncio.Future[GraphQLError] = field(default_factory=asyncio.Future)
    expiry: clock.Alarm | None = None

    def end(self, why: GraphQLError) -> None:
        if not self.ending.done():
            self.ending.set_result(why)


class LiveStreams:
    def __init__(self, most_per_credential: int) -> None:
        self.most_per_credential = most_per_credential
        self._by_credential: dict[Credential, set[_Held]] = {}
        self._held: set[_Held] = set()
        self._stopping = False

    def make_room(self, context: Context) -> None:
        """Refuses a stream over the credential's share, as a websocket is refused."""
        principal = context.principal
        held = self._by_credential.get(principal.credential, ()) if principal else ()
        if len(held) >= self.most_per_credential:
            raise RateLimited(
                f"At most {len(held)} subscriptions over HTTP per user or API key in one "
                "server: end one first",
                retry_after=1,
            )

    async def follow(
        self, events: AsyncIterator[ExecutionResult], context: Context
    ) -> AsyncGenerator[ExecutionResult, None]:
        """`events`, held by the context's credential from the first one on, until they end or
        are ended."""
        held = self._hold(context)
        try:
            async for event in _until(events, held.ending):
                yield event
        finally:
            self._let_go(held)

    def __len__(self) -> int:
        return len(self._held)

    def stop_all(self) -> None:
        """The server is stopping: every stream ends, and any asked for from now on."""
        self._stopping = True
        for held in self._held:
            held.end(STOPPING)

    # What app.services.credentials asks of a holder of credentials.

    def held(self) -> list[Credential]:
        return list(self._by_credential)

    def holds(self, credential: Credential) -> bool:
        return credential in self._by_credential

    def change_role(self, credential: Credential, role: Role) -> None:
        for held in self._by_credential.get(credential, ()):
            principal = held.context.principal
            if isinstance(principal, UserPrincipal) and principal.role != role:
                held.context.principal = replace(principal, role=role)

    def retire_signing_secrets(self, tenant_id: UUID, state: SigningState) -> None:
        for held in self._held:
            principal = held.context.principal
            if isinstance(principal, UserPrincipal) and principal.tenant_id == tenant_id:
                signed = principal.signed_under(state)
                if signed is not principal:
                    held.context.principal = signed
                    _time(held)

    async def end(self, credential: Credential, why: CredentialGone) -> None:
        for held in list(self._by_credential.get(credential, ())):
            _gone(held, why)

    def _hold(self, context: Context) -> _Held:
        principal = context.principal
        held = _Held(context, principal.credential if principal else None)
        self._held.add(held)
        if self._stopping:
            held.end(STOPPING)
        if held.credential is not None:
            self._by_credential.setdefault(held.credential, set()).add(held)
        _time(held)
        return held

    def _let_go(self, held: _Held) -> None:
        self._held.discard(held)
        if held.expiry is not None:
            held.expiry.cancel()
        if held.credential is None:
            return
        streams = self._by_credential.get(held.credential, set())
        streams.discard(held)
        if not streams:
            self._by_credential.pop(held.credential, None)


def _time(held: _Held) -> None:
    """A user principal's stream ends when its token or its token's secret does."""
    if held.expiry is not None:
        held.expiry.cancel()
        held.expiry = None
    principal = held.context.principal
    if isinstance(principal, UserPrincipal):
        ends, why = principal.ending()
        held.expiry = clock.call_at(ends, _gone, held, why)


def _gone(held: _Held, why: CredentialGone) -> None:
    reason = CLOSES[why].reason
    held.context.end(reason)  # no event goes out from now on, whichever comes first
    message = f"Credential gone ({reason}); subscribe with a new one"
    held.end(GraphQLError(message, extensions={"code": Unauthenticated.code}))


async def _until(
    events: AsyncIterator[ExecutionResult], ending: asyncio.Future[GraphQLError]
) -> AsyncGenerator[ExecutionResult, None]:
    """`events`, then, once `ending` has its error, that error as the last event."""
    following: asyncio.Future[ExecutionResult] | None = None
    try:
        while not ending.done():
            following = asyncio.ensure_future(anext(events))
            either: list[asyncio.Future[Any]] = [following, ending]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                break
            try:
                yield following.result()
            except StopAsyncIteration:
                return
        await _stop(following)
        yield ExecutionResult(data=None, errors=[ending.result()])
    finally:
        # Ended, or the client went away (this is cancelled): the events' generator may be
        # closed only once nothing runs it.
        await _stop(following)
        if isinstance(events, AsyncGenerator):
            await events.aclose()


async def _stop(following: asyncio.Future[ExecutionResult] | None) -> None:
    if following is not None and not following.done():
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await following
