"""Which pages may act on the API: its own origin and the listed ones, each matched as the
exact text a browser sends (scheme, host and port), on websocket handshakes and on mutations
signed in by the session cookie; behind a proxy uvicorn trusts, its X-Forwarded-Proto gives
the API's own scheme."""

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from app.settings import Settings
from tests.conftest import LiveServer, serving
from tests.helpers import Api, make_tenant, make_user, publish
from tests.processes import server_process
from tests.wsclient import GraphQLSocket

COOKIE = "belfry_session"
APP = "https://app.example.com"  # the listed origin
MARK_ALL = "mutation { markAllNotificationsRead { marked } }"

# What is checked here does not depend on the database.
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[LiveServer]:
    # uvicorn told to trust the proxy on loopback, as `belfry serve` is by default.
    listed = settings.model_copy(update={"session_cookie": COOKIE, "allowed_origins": [APP]})
    async with serving(listed, forwarded_allow_ips=["127.0.0.1"]) as server:
        yield server


def own_origin(server: LiveServer) -> str:
    return server.http_url  # http://127.0.0.1:PORT


async def socket_refused(server: LiveServer, origin: str, **headers: str) -> bool:
    """Whether a handshake from a page on `origin` is refused (HTTP 403)."""
    try:
        socket = await GraphQLSocket.open(
            server.ws_url, None, origin=origin, additional_headers=headers
        )
    except InvalidStatus as refused:
        assert refused.response.status_code == 403
        return True
    await socket.close()
    return False


async def mark_all_by_cookie(server: LiveServer, origin: str, **headers: str) -> dict[str, Any]:
    """Alice, with one unread notification, marks all read from a page on `origin`, signed in
    by her session cookie alone."""
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        api = Api(client)
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        await publish(api, tenant, ["alice"])
        sent = {"origin": origin, "cookie": f"{COOKIE}={alice.token}", **headers}
        response = await client.post("/graphql", json={"query": MARK_ALL}, headers=sent)
    body: dict[str, Any] = response.json()
    return body


def forbidden(body: dict[str, Any]) -> bool:
    return [e["extensions"]["code"] for e in body.get("errors") or []] == ["FORBIDDEN"]


@SQLITE
async def test_the_https_origin_of_an_http_server_is_not_its_own(live: LiveServer) -> None:
    # Given a page on https at the host and port of a server reached over http
    page = own_origin(live).replace("http://", "https://")

    # When it opens a websocket and posts a mutation with the session cookie
    refused = await socket_refused(live, page)
    marked = await mark_all_by_cookie(live, page)

    # Then both are refused: another scheme is another origin
    assert refused
    assert forbidden(marked)


@SQLITE
@pytest.mark.parametrize("spelling", ["listed", "own"])
async def test_an_origin_with_a_trailing_slash_is_not_the_origin(
    live: LiveServer, spelling: str
) -> None:
    # Given an Origin header with a slash after the listed origin, or after the API's own,
    # which no browser sends
    page = (APP if spelling == "listed" else own_origin(live)) + "/"

    # When it opens a websocket and posts a mutation with the session cookie
    refused = await socket_refused(live, page)
    marked = await mark_all_by_cookie(live, page)

    # Then both are refused
    assert refused
    assert forbidden(marked)


@SQLITE
@pytest.mark.parametrize("origin", ["listed", "own"])
async def test_the_listed_origin_and_the_apis_own_as_browsers_send_them_are_let_in(
    live: LiveServer, origin: str
) -> None:
    # Given a page on the listed origin, or on the API's own
    page = APP if origin == "listed" else own_origin(live)

    # When it opens a websocket and posts a mutation with the session cookie
    refused = await socket_refused(live, page)
    marked = await mark_all_by_cookie(live, page)

    # Then both go through
    assert not refused
    assert marked == {"data": {"markAllNotificationsRead": {"marked": 1}}}


@SQLITE
async def test_an_https_page_behind_a_trusted_proxy_is_the_apis_own_origin(
    live: LiveServer,
) -> None:
    # Given a page on https, reaching the server through a proxy on a trusted address that
    # terminates TLS and says so
    page = own_origin(live).replace("http://", "https://")
    proxied = {"x-forwarded-proto": "https"}

    # When it opens a websocket and posts a mutation with the session cookie
    refused = await socket_refused(live, page, **proxied)
    marked = await mark_all_by_cookie(live, page, **proxied)

    # Then both go through
    assert not refused
    assert marked == {"data": {"markAllNotificationsRead": {"marked": 1}}}


@SQLITE
async def test_a_refused_origin_is_logged_naming_the_setting(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a page on an origin that is not listed
    caplog.set_level(logging.WARNING)

    # When it opens a websocket
    assert await socket_refused(live, "https://elsewhere.example")

    # Then the refusal is logged once, telling the operator which variable lists origins
    [line] = [r.getMessage() for r in caplog.records if "elsewhere.example" in r.getMessage()]
    assert "BELFRY_ALLOWED_ORIGINS" in line


async def test_x_forwarded_proto_from_an_address_not_trusted_is_ignored(tmp_path: Path) -> None:
    # Given `belfry serve` trusting a proxy elsewhere only, and a client on loopback that says
    # its page is on https
    trusting = {"BELFRY_FORWARDED_ALLOW_IPS": "192.0.2.1"}
    async with server_process(tmp_path, trusting) as server:
        port = server.url.rsplit(":", 1)[1]
        page = f"https://127.0.0.1:{port}"
        ws_url = server.ws_url

        # When it opens a websocket
        try:
            socket = await GraphQLSocket.open(
                ws_url, None, origin=page, additional_headers={"x-forwarded-proto": "https"}
            )
        except InvalidStatus as refused:
            status = refused.response.status_code
        else:
            await socket.close()
            status = 101

    # Then the server goes by the scheme it was reached with, and refuses the page
    assert status == 403
