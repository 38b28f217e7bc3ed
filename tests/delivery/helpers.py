"""Builders and real loopback receivers for the delivery tests."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.delivery.providers.base import Message, SendContext, Target
from tests.servers import serving_in_loop


def make_message(**changes: Any) -> Message:
    values: dict[str, Any] = {
        "delivery_id": "msg_2Ka9ZqP",
        "category": "billing.low_balance",
        "title": "Your balance is getting low",
        "body": "About 12 minutes remain.",
        "link": "https://app.example.com/billing",
        "data": {"balance": 3.5},
        "created_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    return Message(**(values | changes))


TARGET = Target(email="ada@example.com", phone="+15550100", name="Ada", external_id="ada-1")


def context(http: httpx.AsyncClient, *, timeout: float = 2.0) -> SendContext:
    # The receivers live on loopback, which production would refuse.
    return SendContext(http=http, allow_private_targets=True, timeout=timeout)


def free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


class Receiver:
    """Records every request and answers with `status` and `reply`, after `delay` seconds."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Recorded] = []
        self.status = 200
        self.reply: Any = {"ok": True}
        self.delay = 0.0
        self.released = asyncio.Event()  # ends pending delays, so shutdown does not wait

    @property
    def only(self) -> Recorded:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]

    async def handle(self, request: Request) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.requests.append(
            Recorded(request.method, request.url.path, headers, await request.body())
        )
        if self.delay:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.released.wait(), self.delay)
        return JSONResponse(self.reply, status_code=self.status)


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A Receiver served by uvicorn on a free loopback port, in the test's event loop."""
    receiver = Receiver()
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST", "PUT"])])
    async with serving_in_loop(app, lifespan="off") as port:
        receiver.url = f"http://127.0.0.1:{port}"
        try:
            yield receiver
        finally:
            receiver.released.set()  # lets held requests finish, so the server can stop


class Mailbox:
    """An aiosmtpd handler that keeps what it receives and answers DATA with `reply`."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.reply = "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return self.reply

    def received(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        content = self.envelopes[0].content
        assert isinstance(content, bytes)
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    # Controller(port=0) fails its own start-up check, so it gets a free port of ours.
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()
