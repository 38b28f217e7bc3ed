"""This process's open connections that hold a credential, each with its GraphQL context: the
websockets (app.http.sockets) and the subscriptions streamed over HTTP (app.http.streams), by
the credential each was opened with (a user, or an API key). A credential that is revoked,
erased or expires ends its connections at once, and so does the end of the grace of a
rotated signing secret that signed its token; a changed role applies to their next operation
and event. app.services.credentials brings these changes, from whichever process made them."""

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Protocol
from uuid import UUID

from app import clock
from app.auth import Credential, CredentialGone, SigningState, UserPrincipal
from app.graphql.context import Context
from app.models import Role

# Why a credential is gone, as every connection it held is told; the README's Live section
# lists these.
GONE = {
    CredentialGone.USER_ERASED: "user erased",
    CredentialGone.API_KEY_REVOKED: "API key revoked",
    CredentialGone.TOKEN_EXPIRED: "token expired",
    CredentialGone.SIGNING_SECRET_ROTATED: "signing secret rotated",
}


class Connection(Protocol):
    """A held connection: hashable, and it ends when told, saying why."""

    def __hash__(self) -> int: ...

    async def end(self, why: CredentialGone) -> None:
        """Its credential is gone: tells the client why, and ends."""
        ...

    async def stop(self) -> None:
        """The server is stopping: tells the client so, and ends."""
        ...


@dataclass(slots=True, eq=False)
class Held:
    connection: Connection
    context: Context
    credential: Credential | None  # None: no credential (yet); only the server's stop ends it
    expiry: clock.Alarm | None = None


class CredentialRegistry:
    def __init__(self) -> None:
        self._held: dict[Connection, Held] = {}
        self._by_credential: dict[Credential, set[Held]] = {}
        self._later: set[asyncio.Task[None]] = set()
        self.stopping = False  # the server is stopping: every connection ends

    def hold(self, connection: Connection, context: Context) -> None:
        """Holds the connection by its context's principal until `let_go`; a user token's ends
        when it expires (or the secret that signed it does). Held again (a socket of the
        legacy protocol may sign in again), it is held by its principal now."""
        self.let_go(connection)
        principal = context.principal
        held = Held(connection, context, principal.credential if principal else None)
        self._held[connection] = held
        if held.credential is not None:
            self._by_credential.setdefault(held.credential, set()).add(held)
        self._time(held)

    def let_go(self, connection: Connection) -> None:
        held = self._held.pop(connection, None)
        if held is None:
            return
        _cancel_expiry(held)
        if held.credential is None:
            return
        connections = self._by_credential[held.credential]
        connections.discard(held)
        if not connections:
            del self._by_credential[held.credential]

    def retime(self, connection: Connection) -> None:
        """The connection ends when its principal, as it is now, does."""
        held = self._held.get(connection)
        if held is not None:
            self._time(held)

    def __contains__(self, connection: Connection) -> bool:
        return connection in self._held

    def __len__(self) -> int:
        return len(self._held)

    def count(self, credential: Credential, kind: type[Connection]) -> int:
        """How many connections of this kind the credential holds."""
        held = self._by_credential.get(credential, ())
        return sum(isinstance(each.connection, kind) for each in held)

    # What app.services.credentials asks of a holder of credentials.

    def held(self) -> list[Credential]:
        return list(self._by_credential)

    def holds(self, credential: Credential) -> bool:
        return credential in self._by_credential

    def change_role(self, credential: Credential, role: Role) -> None:
        """The connections' next operations and events are authorised with the new role."""
        for held in self._by_credential.get(credential, ()):
            principal = held.context.principal
            if isinstance(principal, UserPrincipal) and principal.role != role:
                held.context.principal = replace(principal, role=role)

    def retire_signing_secrets(self, tenant_id: UUID, state: SigningState) -> None:
        """Connections of the tenant's users signed in with a token of a rotated secret end
        when its grace does, or at once (from a timer, as an expiry) if it has ended."""
        for held in list(self._held.values()):
            principal = held.context.principal
            if isinstance(principal, UserPrincipal) and principal.tenant_id == tenant_id:
                signed = principal.signed_under(state)
                if signed is not principal:
                    held.context.principal = signed
                    self._time(held)

    async def end(self, credential: Credential, why: CredentialGone) -> None:
        """Refuses the credential's connections every operation and event from now on, then
        ends them; each leaves the registry as its handler ends."""
        ending = list(self._by_credential.get(credential, ()))
        for held in ending:  # all of them before the first await
            _refuse(held, why)
        for held in ending:
            await held.connection.end(why)

    async def stop_all(self) -> None:
        """The server is stopping: ends every connection, returning once each is told."""
        self.stopping = True
        await asyncio.gather(*(held.connection.stop() for held in list(self._held.values())))

    def later(self, ending: Coroutine[object, None, None]) -> None:
        """Runs `ending` from a timer, as a task held until it is done."""
        task = asyncio.create_task(ending, name="ending a connection")
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    def _time(self, held: Held) -> None:
        """A user principal's connection ends when its token or its token's secret does."""
        _cancel_expiry(held)
        principal = held.context.principal
        if isinstance(principal, UserPrincipal):
            ends, why = principal.ending()
            held.expiry = clock.call_at(ends, self._expire, held, why)

    def _expire(self, held: Held, why: CredentialGone) -> None:
        _refuse(held, why)
        self.later(held.connection.end(why))


def _refuse(held: Held, why: CredentialGone) -> None:
    held.context.end(GONE[why])  # no operation or event goes through from now on
    _cancel_expiry(held)


def _cancel_expiry(held: Held) -> None:
    if held.expiry is not None:
        held.expiry.cancel()
        held.expiry = None
