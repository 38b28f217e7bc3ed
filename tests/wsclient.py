"""A small GraphQL-over-websocket client speaking both protocols, on the real `websockets`."""

import asyncio
import contextlib
import itertools
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


class GraphQLSocket:
    def __init__(self, connection: ClientConnection, protocol: str) -> None:
        self.connection = connection
        self.protocol = protocol
        self._ids = itertools.count(1)

    @classmethod
    async def open(
        cls,
        url: str,
        token: str | None,
        protocol: str = TRANSPORT_WS,
        init: dict[str, Any] | None = None,
        **kw: Any,
    ) -> "GraphQLSocket":
        """Connects and sends connection_init (`init` as its payload, else the token as
        `authorization`); call `acknowledged()` to wait for the answer."""
        connection = await websockets.connect(url, subprotocols=[protocol], **kw)  # type: ignore[list-item]
        socket = cls(connection, protocol)
        if init is None:
            init = {"authorization": f"Bearer {token}"} if token else {}
        await socket.send({"type": "connection_init", "payload": init})
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(
                await asyncio.wait_for(self.connection.recv(), timeout)
            )
            if message["type"] not in ("ka", "ping", "pong"):
                return message

    async def acknowledged(self) -> None:
        message = await self.receive()
        assert message["type"] == "connection_ack", message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        operation_id = str(next(self._ids))
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": operation_id, "type": kind, "payload": payload})
        return operation_id

    async def next(self, operation_id: str, timeout: float = 5) -> dict[str, Any]:
        """The next result's data for the operation; fails on errors."""
        message = await self.receive(timeout)
        assert message.get("id") == operation_id, message
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message["payload"]
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def result(self, timeout: float = 5) -> dict[str, Any]:
        """The next operation message, whatever it is."""
        return await self.receive(timeout)

    async def received_within(self, seconds: float) -> list[dict[str, Any]]:
        """Every message that arrives within `seconds`."""
        messages = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    messages.append(await self.receive(timeout=seconds))
        return messages

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await self.receive(timeout=seconds)
        except TimeoutError:
            return True
        return False

    async def close_frame(self, timeout: float = 5) -> tuple[int, str] | None:
        """Reads past any messages until the server closes the socket: its code and reason."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await self.connection.recv()
            except ConnectionClosed as closed:
                return None if closed.rcvd is None else (closed.rcvd.code, closed.rcvd.reason)

    async def close(self) -> None:
        await self.connection.close()
