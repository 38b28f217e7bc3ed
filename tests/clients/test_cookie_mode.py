"""Cookie mode of the browser client (clients/js/src/client.js): a page whose user Belfry's
session cookie signs in runs the client and <belfry-inbox> with no token at all, from another
allowed origin of the same site, in Chromium against a real server.

The client's behaviour does not depend on the database: these run on SQLite only."""

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app.settings import Settings
from tests.conftest import LiveServer, free_port, serving
from tests.helpers import Api, make_tenant, make_user, publish
from tests.node import node_process, require_chromium
from tests.servers import serving_in_loop

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

COOKIE = "belfry_session"


async def host_page(_: object) -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>The host's app</title>")


@pytest.fixture
async def page_origin() -> AsyncIterator[str]:
    """The host app's own server: another port of the same host, so another origin of the
    same site, whose cookies reach Belfry."""
    app = Starlette(routes=[Route("/", host_page)])
    async with serving_in_loop(app, free_port()) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
async def belfry(settings: Settings, page_origin: str) -> AsyncIterator[LiveServer]:
    cookie_settings = {"session_cookie": COOKIE, "allowed_origins": [page_origin]}
    async with serving(settings.model_copy(update=cookie_settings)) as live:
        yield live


async def test_the_client_and_the_element_run_on_the_session_cookie_alone(
    belfry: LiveServer, page_origin: str
) -> None:
    # Given a user, and a page of the host's origin on which Belfry has set the session cookie
    # and which runs a store and an element in cookie mode, both following the inbox
    require_chromium()
    async with httpx.AsyncClient(base_url=belfry.http_url) as client:
        api = Api(client)
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        args = (page_origin, belfry.http_url, tenant.api_key, "alice")
        async with node_process("cookie-mode.mjs", *args) as page:
            await page.expect(lambda m: m["event"] == "ready", timeout=60)

            # When a notification is published to the user, and the page marks it read
            await publish(api, tenant, ["alice"], title="Paid")
            await page.send({"cmd": "mark", "title": "Paid"})
            seen = await page.expect(lambda m: m["event"] == "seen", timeout=60)

        # Then both showed it live, the mark went through the cookie's socket, the page's
        # script never held the cookie, and the socket's sign-in carried no token
        assert seen["storeTitles"] == ["Paid"] and seen["elementTitles"] == ["Paid"]
        assert (seen["unreadBefore"], seen["readAfter"]) == (1, True)
        assert (await api.data("{ unreadCount }", token=alice.token))["unreadCount"] == 0
        assert seen["cookieSeenByScript"] == ""
        assert seen["connectionInits"] and all(
            "authorization" not in (init.get("payload") or {}) for init in seen["connectionInits"]
        )
