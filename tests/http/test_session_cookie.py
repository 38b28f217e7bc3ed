"""The session cookie (BELFRY_SESSION_COOKIE): a user token in an HttpOnly cookie, read on
HTTP requests and websocket handshakes after the Authorization header, and trusted for
changes only from allowed origins or the API's own."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from websockets.exceptions import InvalidStatus

from app.settings import Settings
from tests.conftest import LiveServer, serving
from tests.helpers import (
    Api,
    TenantAccess,
    make_tenant,
    make_user,
    publish,
)
from tests.node import require_chromium, run_node
from tests.wsclient import GraphQLSocket

COOKIE = "belfry_session"
APP = "https://app.example.com"  # the allowed origin
ELSEWHERE = "https://evil.example"
VIEWER = "{ viewer { externalId } unreadCount }"
MARK_ALL = "mutation { markAllNotificationsRead { marked } }"
SET_COOKIE = (
    "mutation($externalId: String!) { issueUserToken(externalId: $externalId, setCookie: true) "
    "{ token expiresAt } }"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"session_cookie": COOKIE, "allowed_origins": [APP]})


async def call(
    app: Starlette, query: str, *, cookie: str | None, origin: str | None = None, **headers: str
) -> httpx.Response:
    """A request as a browser makes it: the cookie it holds, the origin of the page."""
    sent = {**headers, **({"origin": origin} if origin else {})}
    cookies = {COOKIE: cookie} if cookie else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://belfry.test", cookies=cookies
    ) as client:
        return await client.post("/graphql", json={"query": query}, headers=sent)


def errors(response: httpx.Response) -> list[tuple[str, str]]:
    body: dict[str, Any] = response.json()
    return [(e["extensions"]["code"], e["message"]) for e in body.get("errors") or []]


async def test_a_query_with_the_cookie_alone_is_the_users(app, alice) -> None:
    response = await call(app, VIEWER, cookie=alice.token)

    assert response.json()["data"]["viewer"] == {"externalId": "alice"}


async def test_a_request_signed_in_by_neither_is_told_of_the_cookie_too(app) -> None:
    response = await call(app, VIEWER, cookie=None)

    [(code, message)] = errors(response)
    assert code == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in message and f"the {COOKIE} cookie" in message


async def test_the_authorization_header_wins_over_the_cookie(app, api, tenant, alice) -> None:
    bob = await make_user(api, tenant, "bob")

    response = await call(app, VIEWER, cookie=alice.token, authorization=f"Bearer {bob.token}")

    assert response.json()["data"]["viewer"] == {"externalId": "bob"}


@pytest.mark.parametrize("origin", [APP, "http://belfry.test"])  # listed, or the API's own
async def test_a_mutation_with_the_cookie_from_an_allowed_origin_goes_through(
    app, api, tenant, alice, origin: str
) -> None:
    await publish(api, tenant, ["alice"])

    response = await call(app, MARK_ALL, cookie=alice.token, origin=origin)

    assert response.json()["data"] == {"markAllNotificationsRead": {"marked": 1}}


@pytest.mark.parametrize("origin", [ELSEWHERE, None])  # a foreign page, or one that says none
async def test_a_mutation_with_the_cookie_from_elsewhere_is_refused_and_changes_nothing(
    app, api, tenant, alice, origin: str | None
) -> None:
    await publish(api, tenant, ["alice"])

    response = await call(app, MARK_ALL, cookie=alice.token, origin=origin)

    [(code, message)] = errors(response)
    assert code == "FORBIDDEN" and "allowed origin" in message
    assert (await api.data("{ unreadCount }", token=alice.token))["unreadCount"] == 1


async def test_an_api_key_is_never_read_from_a_cookie(app, tenant) -> None:
    response = await call(app, "{ eventCategories { name } }", cookie=tenant.api_key)

    assert errors(response) == [("UNAUTHENTICATED", "An API key is never read from a cookie")]


async def test_issue_user_token_sets_the_cookie_for_an_allowed_origin(app, tenant, alice) -> None:
    variables = {"externalId": "alice"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://belfry.test"
    ) as client:
        headers = {"authorization": f"Bearer {tenant.api_key}", "origin": APP}
        body = {"query": SET_COOKIE, "variables": variables}
        allowed = await client.post("/graphql", json=body, headers=headers)
        refused = await client.post("/graphql", json=body, headers={**headers, "origin": ELSEWHERE})

    cookie = allowed.headers["set-cookie"]
    token = allowed.json()["data"]["issueUserToken"]["token"]
    assert cookie.startswith(f"{COOKIE}={token};")
    assert {"httponly", "samesite=lax", "path=/"} <= {p.strip().lower() for p in cookie.split(";")}
    assert "expires=" in cookie.lower() and "secure" not in cookie.lower()  # in development
    assert [code for code, _ in errors(refused)] == ["FORBIDDEN"]
    assert "set-cookie" not in refused.headers


async def test_without_the_setting_no_cookie_is_read_or_set(settings: Settings) -> None:
    plain = settings.model_copy(update={"session_cookie": None})
    async with serving(plain) as server, httpx.AsyncClient(base_url=server.http_url) as client:
        api = Api(client)
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        cookie = {"cookie": f"{COOKIE}={alice.token}"}
        read = await client.post("/graphql", json={"query": VIEWER}, headers=cookie)
        body = {"query": SET_COOKIE, "variables": {"externalId": "alice"}}
        headers = {"authorization": f"Bearer {tenant.api_key}", "origin": APP}
        set_ = await client.post("/graphql", json=body, headers=headers)

    [(code, message)] = errors(read)
    assert code == "UNAUTHENTICATED" and "cookie" not in message
    assert [code for code, _ in errors(set_)] == ["BAD_USER_INPUT"]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[LiveServer]:
    async with serving(settings) as server:
        yield server


@pytest.fixture
async def live_tenant(live: LiveServer) -> TenantAccess:
    return await make_tenant()


async def test_a_subscription_signs_in_with_the_cookie_of_its_handshake(live, live_tenant) -> None:
    tenant = live_tenant
    async with httpx.AsyncClient(base_url=live.http_url) as client:
        api = Api(client)
        alice = await make_user(api, tenant, "alice")
        socket = await GraphQLSocket.open(
            live.ws_url, None, origin=APP, additional_headers={"cookie": f"{COOKIE}={alice.token}"}
        )
        await socket.acknowledged()
        op = await socket.subscribe("subscription { inbox { kind unreadCount } }")
        first = (await socket.next(op))["inbox"]
        await publish(api, tenant, ["alice"])
        second = (await socket.next(op))["inbox"]
        await socket.close()

    assert (first["kind"], second["kind"], second["unreadCount"]) == ("SYNC", "CREATED", 1)


async def test_a_socket_with_the_cookie_from_elsewhere_is_refused(live, live_tenant) -> None:
    tenant = live_tenant
    async with httpx.AsyncClient(base_url=live.http_url) as client:
        alice = await make_user(Api(client), tenant, "alice")
    cookie = {"cookie": f"{COOKIE}={alice.token}"}

    # a page elsewhere is refused at the handshake (the origin is not listed at all)
    with pytest.raises(InvalidStatus) as refused:
        await GraphQLSocket.open(live.ws_url, None, origin=ELSEWHERE, additional_headers=cookie)
    # and a client that says no origin is refused at sign-in
    socket = await GraphQLSocket.open(live.ws_url, None, additional_headers=cookie)
    closed = await socket.close_frame()

    assert refused.value.response.status_code == 403
    assert closed is not None and closed[0] == 4403 and "allowed origin" in closed[1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the browser's side
async def test_a_page_on_the_apis_origin_works_with_the_cookie_alone_in_chromium(
    live, live_tenant
) -> None:
    # Given a user with one unread notification
    require_chromium()
    async with httpx.AsyncClient(base_url=live.http_url) as client:
        api = Api(client)
        await make_user(api, live_tenant, "alice")
        await publish(api, live_tenant, ["alice"])

    # When a page on the API's own origin has the cookie set, then queries, marks read and
    # subscribes without any token in its script
    seen = await run_node("session-cookie.mjs", live.http_url, live_tenant.api_key, "alice")

    # Then the cookie, HttpOnly, stays out of the script's reach and signs in each of them
    assert "errors" not in seen["issued"]
    assert seen["cookieSeenByScript"] == ""
    assert seen["viewer"]["data"] == {"viewer": {"externalId": "alice"}, "unreadCount": 1}
    assert seen["marked"]["data"] == {"markAllNotificationsRead": {"marked": 1}}
    assert seen["live"]["data"] == {"unreadCount": 0}
