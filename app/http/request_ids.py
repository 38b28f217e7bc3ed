"""Every HTTP request and websocket has a request id: the client's X-Request-ID when it is a
sane one, else a new one. It is echoed in the response, put on every log line about the
request, and written on the deliveries the request queued, so the worker's lines carry it."""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import logs

HEADER = b"x-request-id"
# What a proxy or a client library sends (UUIDs, hex, ULIDs, base64), and nothing that could
# forge a log line; 64 is what a delivery row keeps.
SANE = re.compile(r"[A-Za-z0-9._:+/=-]{1,64}")
# The messages that open a response or accept a websocket, and so may carry headers.
OPENING = {"http.response.start", "websocket.accept", "websocket.http.response.start"}


def accepted(sent: str | None) -> str:
    """The client's id if it is sane, else a new one."""
    return sent if sent is not None and SANE.fullmatch(sent) else logs.new_request_id()


class RequestIds:
    """Pure ASGI middleware, the outermost: even a response that fails carries the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = accepted(_header(scope))
        echoed = (HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] in OPENING:
                headers = [(k, v) for k, v in message.get("headers") or [] if k.lower() != HEADER]
                message = {**message, "headers": [*headers, echoed]}
            await send(message)

        # A new request: no tenant or operation from whatever ran before in this context.
        with logs.fields(request_id=request_id, tenant_id=None, operation=None):
            await self.app(scope, receive, send_with_id)


def _header(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name.lower() == HEADER:
            return bytes(value).decode("latin-1")
    return None
