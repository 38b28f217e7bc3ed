"""This process's open websockets, by the credential each was opened with (a user, or an API
key), each with its GraphQL context, which every operation on the socket shares. A credential
that is revoked, erased or expires ends its sockets at once, and so does the end of the grace
of a rotated signing secret that signed its token; a changed role applies to their next
operation and event. A socket is added when on_ws_connect accepts its credential and dropped
when its handler ends."""

import asyncio
import contextlib
from dataclasses import dataclass, replace
from uuid import UUID

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from app import clock
from app.auth import Credential, CredentialGone, SigningState, UserPrincipal
from app.graphql.context import Context
from app.models import Role


@dataclass(frozen=True, slots=True)
class SocketClose:
    code: int
    reason: str


# How Belfry closes a socket whose credential is gone, whatever the protocol; the README's
# Live section lists these. 4401 is graphql-transport-ws's "Unauthorized": the credential is
# refused from then on, so the client needs a new one rather than a retry.
# A socket that did not sign in in time (as Strawberry closes graphql-transport-ws ones).
INIT_TIMEOUT = SocketClose(4408, "Connection initialisation timeout")
# Sent to every signed-in socket when the server is told to stop (SIGTERM); uvicorn's own
# 1012 ("service restart") would tell clients to expect the same server back.
GOING_AWAY = SocketClose(1001, "server shutting down")
# Refused at the handshake: the client address holds too many sockets already.
WS_TRY_AGAIN_LATER = 1013

CLOSES: dict[CredentialGone, SocketClose] = {
    CredentialGone.USER_ERASED: SocketClose(4401, "user erased"),
    CredentialGone.API_KEY_REVOKED: SocketClose(4401, "API key revoked"),
    CredentialGone.TOKEN_EXPIRED: SocketClose(4401, "token expired"),
    CredentialGone.SIGNING_SECRET_ROTATED: SocketClose(4401, "signing secret rotated"),
}


@dataclass(slots=True, eq=False)
class _Held:
    websocket: WebSocket
    context: Context
    credential: Credential
    expiry: clock.Alarm | None = None


class LiveSockets:
    def __init__(self) -> None:
        self._by_credential: dict[Credential, set[WebSocket]] = {}
        self._held: dict[WebSocket, _Held] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def add(self, websocket: WebSocket, context: Context) -> None:
        """Holds the socket by its context's principal; a user token's ends when it expires
        (or the secret that signed it does)."""
        principal = context.principal
        assert principal is not None, "add a socket once its credential is accepted"
        self.discard(websocket)  # the legacy protocol lets a socket authenticate again
        held = _Held(websocket, context, principal.credential)
        self._time(held)
        self._held[websocket] = held
        self._by_credential.setdefault(held.credential, set()).add(websocket)

    def retime(self, websocket: WebSocket) -> None:
        """The socket ends when its principal, as it is now, does."""
        held = self._held.get(websocket)
        if held is not None:
            self._time(held)

    def discard(self, websocket: WebSocket) -> None:
        held = self._held.pop(websocket, None)
        if held is None:
            return
        if held.expiry is not None:
            held.expiry.cancel()
        sockets = self._by_credential[held.credential]
        sockets.discard(websocket)
        if not sockets:
            del self._by_credential[held.credential]

    def count(self, credential: Credential) -> int:
        return len(self._by_credential.get(credential, ()))

    def __contains__(self, websocket: WebSocket) -> bool:
        return websocket in self._held

    def __len__(self) -> int:
        return len(self._held)

    def held(self) -> list[Credential]:
        return list(self._by_credential)

    def holds(self, credential: Credential) -> bool:
        return credential in self._by_credential

    def change_role(self, credential: Credential, role: Role) -> None:
        """The sockets' next operations and events are authorised with the new role."""
        for websocket in self._by_credential.get(credential, ()):
            context = self._held[websocket].context
            principal = context.principal
            if isinstance(principal, UserPrincipal) and principal.role != role:
                context.principal = replace(principal, role=role)

    def retire_signing_secrets(self, tenant_id: UUID, state: SigningState) -> None:
        """Sockets of the tenant's users signed in with a token of a rotated secret end when
        its grace does, or at once (from a timer, as an expiry) if it has ended."""
        for held in list(self._held.values()):
            principal = held.context.principal
            if isinstance(principal, UserPrincipal) and principal.tenant_id == tenant_id:
                signed = principal.signed_under(state)
                if signed is not principal:
                    held.context.principal = signed
                    self._time(held)

    async def end(self, credential: Credential, why: CredentialGone) -> None:
        """Refuses the credential's sockets every operation and event from now on, then closes
        them; each leaves the registry as its handler ends."""
        ending = [self._held[websocket] for websocket in self._by_credential.get(credential, ())]
        for held in ending:  # all of them before the first await
            _refuse(held, why)
        for held in ending:
            await _close(held.websocket, CLOSES[why])

    def _time(self, held: _Held) -> None:
        """A user principal's socket ends when its token or its token's secret does."""
        if held.expiry is not None:
            held.expiry.cancel()
            held.expiry = None
        principal = held.context.principal
        if isinstance(principal, UserPrincipal):
            ends, why = principal.ending()
            held.expiry = clock.call_at(ends, self._expire, held, why)

    def _expire(self, held: _Held, why: CredentialGone) -> None:
        _refuse(held, why)
        self.close_soon(held.websocket, CLOSES[why])

    async def close_all(self, close: SocketClose) -> None:
        """Closes every socket, returning once each close frame is sent."""
        await asyncio.gather(*(_close(websocket, close) for websocket in list(self._held)))

    def close_soon(self, websocket: WebSocket, close: SocketClose) -> None:
        """Closes the socket from a timer: the task is held until it is done."""
        closing = asyncio.create_task(_close(websocket, close), name="closing socket")
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)


def _refuse(held: _Held, why: CredentialGone) -> None:
    held.context.end(CLOSES[why].reason)
    if held.expiry is not None:
        held.expiry.cancel()
        held.expiry = None


async def _close(websocket: WebSocket, close: SocketClose) -> None:
    if websocket.application_state is not WebSocketState.CONNECTED:
        return  # closing already
    # Strawberry's handler then reads the client's close and ends the socket's operations.
    with contextlib.suppress(WebSocketDisconnect):  # the peer went away first
        await websocket.close(code=close.code, reason=close.reason)
