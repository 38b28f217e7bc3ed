"""This process's open websockets of users, by (tenant, user), so an erased user's are closed
at once. A socket is added when on_ws_connect accepts its user token and dropped when it ends."""

import contextlib
from uuid import UUID

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

# How an erased user's sockets close, whatever the protocol: 4401 is graphql-transport-ws's
# "Unauthorized", and the token that opened the socket is refused from then on.
USER_ERASED_CLOSE_CODE = 4401
USER_ERASED_CLOSE_REASON = "user erased"

UserKey = tuple[UUID, UUID]  # (tenant id, user id)


class UserSockets:
    def __init__(self) -> None:
        self._by_user: dict[UserKey, set[WebSocket]] = {}
        self._users: dict[WebSocket, UserKey] = {}

    def add(self, tenant_id: UUID, user_id: UUID, websocket: WebSocket) -> None:
        key = (tenant_id, user_id)
        self._by_user.setdefault(key, set()).add(websocket)
        self._users[websocket] = key

    def discard(self, websocket: WebSocket) -> None:
        key = self._users.pop(websocket, None)
        if key is None:
            return
        sockets = self._by_user[key]
        sockets.discard(websocket)
        if not sockets:
            del self._by_user[key]

    def __len__(self) -> int:
        return len(self._users)

    def held_users(self) -> list[UserKey]:
        return list(self._by_user)

    async def release(self, tenant_id: UUID, user_id: UUID) -> None:
        """Closes the user's sockets; each leaves the registry as its handler ends."""
        for websocket in list(self._by_user.get((tenant_id, user_id), ())):
            await close_erased(websocket)


async def close_erased(websocket: WebSocket) -> None:
    if websocket.application_state is not WebSocketState.CONNECTED:
        return  # closing already
    # Strawberry's handler then reads the client's close and ends the socket's operations.
    with contextlib.suppress(WebSocketDisconnect):  # the peer went away first
        await websocket.close(code=USER_ERASED_CLOSE_CODE, reason=USER_ERASED_CLOSE_REASON)
