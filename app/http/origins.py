"""Which browser pages may act on the API: pages on its own origin, and on the origins
BELFRY_ALLOWED_ORIGINS lists. A browser names the page's origin in the Origin header, always
in one spelling (scheme, host and port, lower case, the default port left out, no path), so
an origin matches only as that exact text: `https://api.example` is not the API's own origin
on a server reached over http, nor is `https://app.example/` the listed `https://app.example`.

The API's own scheme is the request's: https behind a proxy that terminates TLS only when it
says so in X-Forwarded-Proto and uvicorn trusts it (BELFRY_FORWARDED_ALLOW_IPS)."""

from starlette.requests import HTTPConnection
from strawberry.http.websocket_origin import normalize_origin

from app.settings import Settings

ANY = "*"
# A websocket's scheme names the page's scheme it came from.
PAGE_SCHEMES = {"ws": "http", "wss": "https"}


def own(connection: HTTPConnection) -> str | None:
    """The API's own origin, as a page it serves would name it: the request's scheme, and
    the host and port the browser asked for (Host)."""
    host = connection.headers.get("host")
    if not host:
        return None
    scheme = connection.scope.get("scheme", "http")
    return normalize_origin(f"{PAGE_SCHEMES.get(scheme, scheme)}://{host}")


def is_allowed(connection: HTTPConnection, settings: Settings, *, star: bool) -> bool:
    """Whether the request comes from a page on the API's own origin or on a listed one; with
    `star`, a "*" in the list lets any page in. A request that names no origin comes from no
    page."""
    origin = connection.headers.get("origin")
    if origin is None or origin == ANY:
        return False
    if origin == own(connection) or origin in settings.allowed_origins:
        return True
    return star and ANY in settings.allowed_origins
