"""Browsers on other origins (CORS): pages on BELFRY_ALLOWED_ORIGINS may call the API over HTTP
and open websockets; others may do neither."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from app.settings import Settings
from tests.conftest import LiveServer, serving
from tests.wsclient import GraphQLSocket

FRONT_END = "https://app.example"
ELSEWHERE = "https://elsewhere.example"


def preflight(origin: str) -> dict[str, str]:
    """What a browser asks before it posts JSON with a token from a page on `origin`."""
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


@asynccontextmanager
async def front_end_server(settings: Settings, *origins: str) -> AsyncIterator[LiveServer]:
    async with serving(settings.model_copy(update={"allowed_origins": list(origins)})) as live:
        yield live


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_preflight_from_an_allowed_origin_lets_the_browser_post(
    settings: Settings,
) -> None:
    async with front_end_server(settings, FRONT_END) as live, httpx.AsyncClient() as http:
        response = await http.options(f"{live.http_url}/graphql", headers=preflight(FRONT_END))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONT_END
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type", "accept"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers  # tokens, not cookies


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_origin_off_the_list_is_refused_over_http_and_websockets(
    settings: Settings,
) -> None:
    async with front_end_server(settings, FRONT_END) as live, httpx.AsyncClient() as http:
        response = await http.options(f"{live.http_url}/graphql", headers=preflight(ELSEWHERE))
        with pytest.raises(InvalidStatus) as refused:
            await GraphQLSocket.open(live.ws_url, None, origin=ELSEWHERE)

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_request_from_an_allowed_origin_carries_its_allow_origin(
    settings: Settings,
) -> None:
    async with front_end_server(settings, FRONT_END) as live, httpx.AsyncClient() as http:
        response = await http.post(
            f"{live.http_url}/graphql",
            json={"query": "{ __typename }"},
            headers={"origin": FRONT_END},
        )

    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["access-control-allow-origin"] == FRONT_END
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_request_without_an_origin_is_served_without_cors_headers(
    settings: Settings,
) -> None:
    async with front_end_server(settings, FRONT_END) as live, httpx.AsyncClient() as http:
        response = await http.post(f"{live.http_url}/graphql", json={"query": "{ __typename }"})
        options = await http.options(f"{live.http_url}/graphql")

    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
    assert options.status_code == 405  # no preflight: the view's own answer to OPTIONS


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_star_lets_any_origin_in_over_http_and_websockets(settings: Settings) -> None:
    async with front_end_server(settings, "*") as live, httpx.AsyncClient() as http:
        response = await http.options(f"{live.http_url}/graphql", headers=preflight(ELSEWHERE))
        socket = await GraphQLSocket.open(live.ws_url, None, origin=ELSEWHERE)
        await socket.close()

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
