from dataclasses import dataclass
from typing import Any
from uuid import UUID

from strawberry.types import Info as StrawberryInfo

from app.auth import ApiKeyPrincipal, Principal, UserPrincipal, authenticate
from app.errors import Forbidden, Unauthenticated
from app.settings import Settings


@dataclass
class Context:
    settings: Settings
    principal: Principal | None = None
    auth_error: Unauthenticated | None = None
    # Strawberry sets these for HTTP requests and websockets.
    request: Any = None
    response: Any = None
    # The websocket's connection_init payload; Strawberry fills it in.
    connection_params: dict[str, Any] | None = None

    @classmethod
    async def build(cls, settings: Settings, authorization: str | None, **kw: Any) -> "Context":
        try:
            return cls(settings=settings, principal=await authenticate(authorization), **kw)
        except Unauthenticated as error:
            return cls(settings=settings, auth_error=error, **kw)

    def require_principal(self) -> Principal:
        if self.auth_error is not None:
            raise self.auth_error
        if self.principal is None:
            raise Unauthenticated("Send 'Authorization: Bearer <API key or user token>'")
        return self.principal

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
