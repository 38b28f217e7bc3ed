"""uvicorn's HTTP protocol (httptools), with deadlines for slow clients. uvicorn waits as long
as a client likes for a request's headers and body, so a few hundred connections dribbling a
byte now and then hold their sockets, and their tasks, for good. Here a request's headers
must be complete within BELFRY_HTTP_HEADER_TIMEOUT_SECONDS of its first byte (or of the
connection, for its first request), and its body within BELFRY_HTTP_BODY_TIMEOUT_SECONDS of
its headers; else the connection is answered 408, where no response has begun, and closed.

Nothing runs against the clock once a request is complete: a response may take as long as it
does (a multipart subscription streams for hours), and a websocket upgrade leaves this
protocol behind as soon as its headers are in."""

import asyncio
import json
import logging
from collections.abc import Callable

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

logger = logging.getLogger("belfry.http")


def timeout_response(message: str, limit: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    """A 408 as GraphQL JSON, as the view answers every refusal, with `headers` (uvicorn's
    server and date); the connection closes after it."""
    error = {"message": message, "extensions": {"code": "BAD_USER_INPUT", "limit": limit}}
    body = json.dumps({"errors": [error]}).encode()
    lines = [
        b"HTTP/1.1 408 Request Timeout",
        *(name + b": " + value for name, value in headers),
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class HttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, object],  # uvicorn's, passed on
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        header_timeout: float,
        body_timeout: float,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect(self.header_timeout, self._headers_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget_deadline()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.deadline is None:  # the next request on a kept-alive connection
            self._expect(self.header_timeout, self._headers_late)

    def on_headers_complete(self) -> None:
        self._forget_deadline()
        serving = self.cycle
        super().on_headers_complete()
        # uvicorn starts a request cycle for a request it serves; an upgrade it hands to the
        # websocket protocol instead, which has its own pings.
        if self.cycle is not serving:
            self._expect(self.body_timeout, self._body_late)

    def on_message_complete(self) -> None:
        self._forget_deadline()
        super().on_message_complete()

    def _expect(self, seconds: float, late: Callable[[], None]) -> None:
        self._forget_deadline()
        self.deadline = self.loop.call_later(seconds, late)

    def _forget_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _headers_late(self) -> None:
        self.deadline = None
        # Before the first request, or after the last was answered, nothing else is being
        # written: the 408 may go out.
        answering = self.cycle is not None and not self.cycle.response_complete
        if not answering:
            self._send_408(
                f"The request's headers were not complete within {self.header_timeout:g} s "
                "(BELFRY_HTTP_HEADER_TIMEOUT_SECONDS)",
                "httpHeaderTimeoutSeconds",
            )
        logger.debug("closed a connection whose request headers were late")
        self.transport.close()

    def _body_late(self) -> None:
        self.deadline = None
        cycle = self.cycle
        if not cycle.response_started:
            self._send_408(
                f"The request's body was not complete within {self.body_timeout:g} s "
                "(BELFRY_HTTP_BODY_TIMEOUT_SECONDS)",
                "httpBodyTimeoutSeconds",
            )
        # The application reads a disconnect from now on, and what it sends goes nowhere.
        cycle.disconnected = True
        cycle.message_event.set()
        logger.debug("closed a connection whose request body was late")
        self.transport.close()

    def _send_408(self, message: str, limit: str) -> None:
        headers = list(self.server_state.default_headers)
        self.transport.write(timeout_response(message, limit, headers))
