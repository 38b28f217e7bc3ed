"""The contract every channel provider keeps, and the helpers the HTTP-based ones share."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Generic, Literal, TypeVar, cast
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from app.delivery.targets import UnsafeTarget, address_literal, checked_addresses
from app.encoding import JsonObject, JsonValue
from app.models.channels import Channel
from app.models.notifications import ActionJson
from app.models.users import User


@dataclass(frozen=True, slots=True)
class Message:
    """What to send."""

    delivery_id: str  # unique per delivery; also the idempotency key (webhook-id)
    category: str
    title: str
    body: str | None
    link: str | None
    data: JsonValue
    created_at: datetime
    notification_id: str | None = None  # None where it goes to a raw address or an endpoint
    rule_id: str | None = None  # the rule that sent it, if any
    priority: str = "NORMAL"  # a Priority's name
    actions: list[ActionJson] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Target:
    """Whom to send it to."""

    email: str | None = None
    phone: str | None = None
    name: str | None = None
    external_id: str | None = None

    @classmethod
    def of(cls, user: User) -> "Target":
        """Everything a channel may need of a user: where to reach them, and who they are."""
        return cls(email=user.email, phone=user.phone, name=user.name, external_id=user.external_id)


class TargetKind(StrEnum):
    """Where a channel's messages go."""

    INBOX = "INBOX"  # the recipient's in-app inbox, which the publish writes itself
    ADDRESS = "ADDRESS"  # the recipient's own address: their email, their phone number
    ENDPOINT = "ENDPOINT"  # the channel's own endpoint, from its config, whoever it is about
    DEVICE = "DEVICE"  # the recipient's registered devices


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    retry: bool = False  # failure worth retrying later (timeout, connection error, 429, 5xx)
    error: str | None = None  # short human-readable reason, never containing a secret


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: str | None = None  # e.g. "SMTP_NOT_CONFIGURED"


@dataclass(frozen=True, slots=True)
class SendContext:
    http: httpx.AsyncClient  # shared client, created by the caller
    allow_private_targets: bool  # False in production: refuse private/loopback/link-local targets
    timeout: float = 10.0


SENT = SendResult(ok=True)


def outgoing_client() -> httpx.AsyncClient:
    """The HTTP client sends share. Proxies and .netrc from the environment are ignored: a
    proxy would resolve target names itself, past the address check, and the server's own
    credentials must not go to tenants' hosts. SSL_CERT_FILE still applies."""
    return httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(), trust_env=False, follow_redirects=False
    )


def failed(error: str) -> SendResult:
    """A failure that will fail the same way next time."""
    return SendResult(ok=False, retry=False, error=error)


def retryable(error: str) -> SendResult:
    """A failure that may well succeed later."""
    return SendResult(ok=False, retry=True, error=error)


class ConfigModel(BaseModel):
    """Base of the config models: camelCase keys, nothing unknown, immutable once parsed."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value


# A required value: a blank one would only fail later, at send time.
NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
HttpUrl = Annotated[NonEmptyStr, AfterValidator(_http_url)]

# Covariant, so that the registry holds every provider as a Provider[BaseModel]. A provider is
# only ever handed a config it parsed itself (app.delivery.configs), which no type can say of
# the registry's many; hence the ignores where C is taken as an argument.
C = TypeVar("C", bound=BaseModel, covariant=True)


class Provider(ABC, Generic[C]):
    """One channel: its facts, its config, and how it sends. Stateless: every call gets its
    config and context. Every list of channels elsewhere is read from these facts, through
    the registry (app.delivery.providers)."""

    kind: ClassVar[Channel]
    target_kind: ClassVar[TargetKind]
    # Whether the recipient's quiet hours hold its deliveries until they end.
    held_by_quiet_hours: ClassVar[bool]
    # Whether a member may test it on themselves (sendTestNotification): it reaches them alone.
    member_testable: ClassVar[bool]
    # ADDRESS channels: which of a Target's fields holds the address.
    address_field: ClassVar[Literal["email", "phone"] | None] = None
    # Whether a tenant configures and enables it (updateChannel); in-app needs neither.
    configurable: ClassVar[bool] = True
    config_model: ClassVar[type[BaseModel]]
    # Config keys that must be encrypted at rest and never returned.
    secret_fields: ClassVar[frozenset[str]]
    # The readiness reason when the channel has no config.
    not_configured: ClassVar[str]
    # The config key saying where Belfry connects (a URL, or the SMTP host): checked at save.
    target_field: ClassVar[str]

    def recognises(self, address: str) -> bool:
        """Whether a raw recipient (a rule's) is an address this channel sends to."""
        return False

    def target_of(self, recipient: Target | None, address: str | None = None) -> Target:
        """Whom a delivery goes to: its recipient, whose own address an ADDRESS channel takes
        (an ENDPOINT channel's config says where; the recipient is whom it is about), else
        the raw address it was written for."""
        if recipient is not None:
            return recipient
        if address is None or self.address_field is None:
            return Target()
        return Target(email=address) if self.address_field == "email" else Target(phone=address)

    def test_target(self, target: Target, config: C) -> Target:  # type: ignore[misc]
        """Whom testChannel sends to: the caller (`target`, empty for an API key)."""
        return target

    def parse_config(self, raw: JsonObject | None) -> C | None:
        """The validated config, None when there is none; ValueError naming bad keys."""
        if not raw:
            return None
        try:
            return cast(C, self.config_model.model_validate(raw))
        except ValidationError as error:
            raise ValueError(f"invalid {self.kind} config: {_describe(error)}") from None

    def readiness(self, config: C | None) -> Readiness:
        # A parsed config always holds its required keys (the model requires them non-blank),
        # so only a missing one leaves the channel unable to send.
        if config is None:
            return Readiness(ready=False, reason=self.not_configured)
        return Readiness(ready=True)

    @abstractmethod
    async def send(
        self,
        message: Message,
        target: Target,
        config: C,  # type: ignore[misc]
        ctx: SendContext,
    ) -> SendResult: ...


def _describe(error: ValidationError) -> str:
    # Only locations and pydantic's messages: the rejected values may be secrets.
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        key = ".".join(str(part) for part in item["loc"]) or "config"
        problems.append(f"{key}: {item['msg']}")
    return "; ".join(problems)


async def http_request(
    ctx: SendContext,
    method: str,
    url: str,
    *,
    json: object = None,  # a body to send as JSON
    content: bytes | None = None,
    data: Mapping[str, str] | None = None,  # a form
    headers: httpx.Headers | Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,  # basic
) -> httpx.Response | SendResult:
    """Make one request to a checked target: the response, or the failure that stopped it.

    The host is resolved once and every address checked; the request then goes to a checked
    address, with the name kept as the Host header and TLS server name, so DNS cannot send
    it elsewhere after the check. Error texts are fixed strings: httpx's messages can quote
    the URL, which may hold a secret (a bot token, a Slack webhook path)."""
    try:
        request = ctx.http.build_request(
            method,
            url,
            json=json,
            content=content,
            data=data,
            headers=headers,
            timeout=ctx.timeout,
        )
    except httpx.InvalidURL:
        return failed("invalid URL")
    if request.url.scheme not in ("http", "https") or not request.url.raw_host:
        return failed("target refused: not an http(s) URL")
    host = request.url.raw_host.decode("ascii")  # IDNA-encoded, as DNS and TLS want it
    try:
        addresses = await checked_addresses(host, allow_private=ctx.allow_private_targets)
    except UnsafeTarget as refusal:
        return failed(f"target refused: {refusal}")
    if not addresses:
        return retryable("host not found")
    if request.url.scheme == "https":
        # httpx pools connections by address, not by name: a kept TLS connection verified
        # for one name must not carry another name's request to the same address.
        request.headers["connection"] = "close"
        if address_literal(host) is None:  # TLS names no server for an address
            request.extensions = {**request.extensions, "sni_hostname": host}
    for address in addresses:
        # The Host header was set from the name when the request was built.
        request.url = request.url.copy_with(host=str(address))
        outcome = await _send(ctx, request, auth)
        if outcome is not None:
            return outcome
    return retryable("connection failed")


async def _send(
    ctx: SendContext, request: httpx.Request, auth: tuple[str, str] | None
) -> httpx.Response | SendResult | None:
    """The response or the failure; None when the address refused the connection, so the
    next checked address may be tried."""
    try:
        # Redirects are not followed: the next hop would skip the target check.
        return await ctx.http.send(
            request, auth=httpx.USE_CLIENT_DEFAULT if auth is None else auth, follow_redirects=False
        )
    except httpx.TimeoutException:
        return retryable("timeout")
    except httpx.ConnectError:
        return None
    except httpx.TransportError:
        return retryable("connection failed")
    except httpx.RequestError:  # e.g. an undecodable response body
        return retryable("request failed")


def classify(response: httpx.Response) -> SendResult:
    """2xx sent; 429 and 5xx worth retrying; anything else a permanent failure."""
    status = response.status_code
    if 200 <= status < 300:
        return SENT
    if status == 429 or status >= 500:
        return retryable(f"HTTP {status}")
    return failed(f"HTTP {status}")


async def http_send(
    ctx: SendContext,
    method: str,
    url: str,
    *,
    json: object = None,
    content: bytes | None = None,
    data: Mapping[str, str] | None = None,
    headers: httpx.Headers | Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> SendResult:
    """`http_request`, judged by status code alone."""
    outcome = await http_request(
        ctx, method, url, json=json, content=content, data=data, headers=headers, auth=auth
    )
    return outcome if isinstance(outcome, SendResult) else classify(outcome)


def plain_text(message: Message) -> str:
    """Title, body and link on their own lines, leaving out the empty ones."""
    return "\n".join(part for part in (message.title, message.body, message.link) if part)
