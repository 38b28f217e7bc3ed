"""Builders and real loopback receivers for the delivery tests."""

import asyncio
import json
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.delivery.providers.base import Message, SendContext, Target
from app.models.channels import PLUGIN_GROUP
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
        "priority": "HIGH",
        "actions": [{"id": "top-up", "label": "Top up", "url": "/billing", "primary": True}],
        "tags": ["billing"],
    }
    return Message(**(values | changes))


TARGET = Target(email="ada@example.com", phone="+15550100", name="Ada", external_id="ada-1")


def context(http: httpx.AsyncClient, *, timeout: float = 2.0) -> SendContext:
    # The receivers live on loopback, which production would refuse.
    return SendContext(http=http, allow_private_targets=True, timeout=timeout)


def install_package(site: Path, name: str, channels: dict[str, str]) -> None:
    """Leaves in `site` what installing a package that adds `channels` would leave for
    importlib.metadata: each channel's name and its provider class ("module:Class")."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    points = "".join(f"{channel} = {provider}\n" for channel, provider in channels.items())
    (info / "entry_points.txt").write_text(f"[{PLUGIN_GROUP}]\n{points}")


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


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for `name`, as files a server and a client can load."""

    name: str
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def self_signed(directory: Path, name: str = "localhost") -> Certificate:
    """A certificate valid for the DNS name `name` only (no IP address in it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(name, cert_file, key_file)


@asynccontextmanager
async def receiving(certificate: Certificate | None = None) -> AsyncIterator[Receiver]:
    """A Receiver served by uvicorn on a free loopback port, in the test's event loop; over
    TLS with `certificate`, when given."""
    receiver = Receiver()
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST", "PUT"])])
    tls: dict[str, Any] = {}
    if certificate is not None:
        tls = {"ssl_certfile": certificate.cert_file, "ssl_keyfile": certificate.key_file}
    async with serving_in_loop(app, lifespan="off", **tls) as port:
        receiver.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
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
def smtp_server(**options: Any) -> Iterator[tuple[Mailbox, int]]:
    """An aiosmtpd server on loopback; `options` go to its Controller (e.g. an authenticator)."""
    # Controller(port=0) fails its own start-up check, so it gets a free port of ours.
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    yield mailbox, port
    controller.stop()


BANNER = b"SSH-2.0-OpenSSH_9.6"


@asynccontextmanager
async def banner_server(banner: bytes = BANNER) -> AsyncIterator[int]:
    """A TCP service on loopback that greets with `banner`, as SSH or a database would, and
    then waits for the client to hang up. Yields its port."""

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(banner + b"\r\n")
        with suppress(ConnectionError):
            await writer.drain()
            await reader.read()  # until the client hangs up
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


# A global address for a rebinding name to answer the check with; nothing there answers us.
PUBLIC_ADDRESS = "2606:4700:4700::1111"


@contextmanager
def rebinding(name: str, first: str, then: str) -> Iterator[list[str]]:
    """Makes `name` resolve to `first` once and to `then` ever after, the way a DNS rebinding
    attacker's server answers; other names resolve as usual. Yields the answers given.

    It answers for the running loop, which Belfry's checks and the HTTP client both ask."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    answers: list[str] = []

    async def getaddrinfo(host: str | bytes | None, *args: Any, **kwargs: Any) -> Any:
        asked = host.decode() if isinstance(host, bytes) else host
        if asked != name:
            return await real(host, *args, **kwargs)
        answers.append(first if not answers else then)
        return await real(answers[-1], *args, **kwargs)

    loop.getaddrinfo = getaddrinfo  # type: ignore[method-assign]
    try:
        yield answers
    finally:
        del loop.getaddrinfo
