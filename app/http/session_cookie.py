"""The session cookie (BELFRY_SESSION_COOKIE): a user token that a same-site web app keeps in
an HttpOnly cookie, so that its JavaScript never handles it. The Authorization header wins
over it, and API keys never come from it.

A browser sends cookies with requests that other sites' pages make, so whatever a cookie
authenticates that changes something (a mutation, a websocket) must come from a page on an
allowed origin, or from the API's own origin: the Origin header says which."""

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.http import origins
from app.settings import Settings


def token_in(connection: HTTPConnection, settings: Settings) -> str | None:
    """The user token in the session cookie, where the setting names one."""
    if settings.session_cookie is None:
        return None
    return connection.cookies.get(settings.session_cookie) or None


def from_allowed_origin(connection: HTTPConnection, settings: Settings) -> bool:
    """Whether the request comes from a page on an origin listed in BELFRY_ALLOWED_ORIGINS
    (by name: "*" does not do here) or on the API's own (app.http.origins). A request that does
    not say where it comes from does not."""
    return origins.is_allowed(connection, settings, star=False)


def set_on(response: Response, settings: Settings, token: str, expires_at: datetime) -> None:
    assert settings.session_cookie is not None
    response.set_cookie(
        settings.session_cookie,
        token,
        expires=expires_at,
        path="/",
        httponly=True,
        secure=settings.environment != "development",
        samesite="lax",
    )


@dataclass(frozen=True, slots=True)
class RequestCookie:
    """One HTTP request's session cookie, as resolvers use it (app.graphql.context)."""

    request: HTTPConnection
    response: Response
    settings: Settings

    def from_allowed_origin(self) -> bool:
        return from_allowed_origin(self.request, self.settings)

    def set(self, token: str, expires_at: datetime) -> None:
        set_on(self.response, self.settings, token, expires_at)
