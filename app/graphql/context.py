from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from strawberry.types import Info as StrawberryInfo

from app import clock
from app.auth import ApiKeyPrincipal, CredentialGone, Principal, UserPrincipal, sign_in
from app.errors import Forbidden, Unauthenticated
from app.settings import Settings

ENDED = {
    CredentialGone.TOKEN_EXPIRED: "User token has expired; connect again with a new one",
    CredentialGone.SIGNING_SECRET_ROTATED: (
        "User token is signed with a rotated signing secret whose grace period has ended; "
        "connect again with a new one"
    ),
}


class SessionCookie(Protocol):
    """The session cookie of one HTTP request, as the transport keeps it
    (app.http.session_cookie)."""

    def from_allowed_origin(self) -> bool:
        """Whether the request comes from a page on an allowed origin, or the API's own."""
        ...

    def set(self, token: str, expires_at: datetime) -> None:
        """Sets the cookie, with this token, on the response."""
        ...


@dataclass(slots=True)  # every open websocket holds one for as long as it is open
class Context:
    settings: Settings
    principal: Principal | None = None
    auth_error: Unauthenticated | None = None
    # Strawberry sets these for HTTP requests and websockets.
    request: Any = None
    response: Any = None
    # The websocket's connection_init payload; Strawberry fills it in.
    connection_params: dict[str, Any] | None = None
    # Why a connection's credential stopped working (app.http.registry); principal is None then.
    ended: str | None = None
    by_cookie: bool = False  # the principal came from the session cookie
    session_cookie: SessionCookie | None = None  # an HTTP request's; None on a websocket

    @classmethod
    async def build(
        cls, settings: Settings, authorization: str | None, cookie: str | None, **kw: Any
    ) -> "Context":
        """`cookie`: the session cookie's token, used where `authorization` is None."""
        kw["by_cookie"] = authorization is None and bool(cookie)
        try:
            principal = await sign_in(authorization, cookie, box=settings.secret_box)
            return cls(settings=settings, principal=principal, **kw)
        except Unauthenticated as error:
            return cls(settings=settings, auth_error=error, **kw)

    def require_principal(self) -> Principal:
        """The caller as of now: a websocket's context outlives its credential."""
        if self.auth_error is not None:
            raise self.auth_error
        principal = self.principal
        if principal is None:
            if self.ended is not None:
                raise Unauthenticated(f"Credential gone ({self.ended}); connect with a new one")
            raise Unauthenticated(self._how_to_sign_in())
        if isinstance(principal, UserPrincipal):
            ends, why = principal.ending()
            if ends <= clock.now():
                raise Unauthenticated(ENDED[why])
        return principal

    def _how_to_sign_in(self) -> str:
        message = "Send 'Authorization: Bearer <API key or user token>'"
        if self.settings.session_cookie:
            message += f", or a user token in the {self.settings.session_cookie} cookie"
        return message

    def end(self, reason: str) -> None:
        """The credential is gone (revoked, erased, expired): refuse everything from now on."""
        self.principal = None
        self.ended = reason

    @property
    def tenant_id(self) -> UUID:
        return self.require_principal().tenant_id

    @property
    def user(self) -> UserPrincipal:
        principal = self.require_principal()
        if not isinstance(principal, UserPrincipal):
            raise Forbidden("This operation is for a user token; API keys cannot use it")
        return principal

    @property
    def api_key(self) -> ApiKeyPrincipal:
        principal = self.require_principal()
        if not isinstance(principal, ApiKeyPrincipal):
            raise Forbidden("This operation needs a tenant API key")
        return principal


Info = StrawberryInfo[Context, None]
