"""How Belfry closes a websocket, and a websocket as a connection that the credential registry
(app.http.registry) holds: from when on_ws_connect accepts its credential until its handler
ends. The GraphQL context it holds is shared by every operation on the socket."""

import contextlib
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from app.auth import CredentialGone
from app.http.registry import GONE


@dataclass(frozen=True, slots=True)
class SocketClose:
    code: int
    reason: str


# How Belfry closes a socket whose credential is gone, whatever the protocol; the README's
# Live section lists these. 4401 is graphql-transport-ws's "Unauthorized": the credential is
# refused from then on, so the client needs a new one rather than a retry.
CLOSES = {why: SocketClose(4401, reason) for why, reason in GONE.items()}
# A socket that did not sign in in time (as Strawberry closes graphql-transport-ws ones).
INIT_TIMEOUT = SocketClose(4408, "Connection initialisation timeout")
# Sent to every signed-in socket when the server is told to stop (SIGTERM); uvicorn's own
# 1012 ("service restart") would tell clients to expect the same server back.
GOING_AWAY = SocketClose(1001, "server shutting down")
# Refused at the handshake: the client address holds too many sockets already.
WS_TRY_AGAIN_LATER = 1013


@dataclass(frozen=True, slots=True)
class Socket:
    """A websocket as the registry holds it: the same socket is the same connection."""

    websocket: WebSocket

    async def end(self, why: CredentialGone) -> None:
        await close(self.websocket, CLOSES[why])

    async def stop(self) -> None:
        await close(self.websocket, GOING_AWAY)


async def close(websocket: WebSocket, close: SocketClose) -> None:
    """Closes the socket, returning once the close frame is sent."""
    if websocket.application_state is not WebSocketState.CONNECTED:
        return  # closing already
    # Strawberry's handler then reads the client's close and ends the socket's operations.
    with contextlib.suppress(WebSocketDisconnect):  # the peer went away first
        await websocket.close(code=close.code, reason=close.reason)
