"""The HTTP surface around the schema: health, readiness, GraphiQL and error policy."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from websockets.exceptions import InvalidStatus

from app.main import create_app
from app.services import inbox
from app.settings import Settings
from tests.conftest import LiveServer, serving
from tests.helpers import Api, make_tenant, make_user
from tests.wsclient import GraphQLSocket


async def test_healthz_answers_ok(api: Api) -> None:
    response = await api.client.get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(api: Api) -> None:
    response = await api.client.get("/readyz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_is_unavailable_without_a_database() -> None:
    # Port 9 (discard) has no PostgreSQL behind it on any machine this runs on.
    app = create_app(Settings(database_url="postgres://postgres@127.0.0.1:9/none", gc_tuning=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.get("/readyz")

    assert response.status_code == 503 and response.json()["status"] == "unavailable"


async def test_graphiql_is_served_to_browsers(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_syntax_errors_are_bad_user_input(api: Api) -> None:
    error = await api.error("{ notifications { ")

    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_fields_are_bad_user_input(api: Api) -> None:
    error = await api.error("{ nope }")

    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "nope" in error["message"]


async def test_unexpected_failures_are_masked_and_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant)

    async def broken(**_: object) -> int:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(inbox, "unread_count", broken)
    with caplog.at_level(logging.ERROR, logger="belfry.graphql"):
        error = await api.error("{ unreadCount }", token=alice.token)

    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret internals" not in str(error)
    request_id = error["extensions"]["requestId"]
    assert any(request_id in r.getMessage() for r in caplog.records)
    assert any("secret internals" in r.getMessage() for r in caplog.records)


async def test_a_served_app_freezes_its_start_up_heap(settings: Settings) -> None:
    thresholds = gc.get_threshold()
    app = create_app(settings.model_copy(update={"gc_tuning": True}))
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] > thresholds[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def test_too_many_aliases_are_refused_every_time(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: unreadCount" for i in range(31)) + " }"

    first = await api.error(query)
    again = await api.error(query)  # validation results are cached; the rule still holds

    assert first["extensions"]["code"] == again["extensions"]["code"] == "BAD_USER_INPUT"
    assert "aliases" in first["message"].lower()


async def test_the_server_runs_the_background_jobs_unless_told_not_to(settings: Settings) -> None:
    for embedded, expected in ((True, {"retention"}), (False, set())):
        app = create_app(settings.model_copy(update={"embedded_jobs": embedded}))
        async with app.router.lifespan_context(app):
            names = {task.get_name() for task in asyncio.all_tasks()}
        assert names & {"retention"} == expected


async def test_a_server_stopped_as_it_starts_stops_within_the_grace(settings: Settings) -> None:
    # Given a server whose jobs start on a database nothing has connected to yet
    grace = 1.0
    app = create_app(
        settings.model_copy(update={"embedded_jobs": True, "shutdown_grace_seconds": grace})
    )
    lifespan = app.router.lifespan_context(app)

    # When it is stopped at once, as when its port turns out to be taken
    await lifespan.__aenter__()
    await asyncio.sleep(0.001)  # the jobs begin: the first one connects
    stopping = asyncio.ensure_future(lifespan.__aexit__(None, None, None))
    done, _ = await asyncio.wait([stopping], timeout=grace + 20)

    # Then it stops: no job was cancelled while holding the database
    assert done, "the server's shutdown hung"


INTROSPECT = "{ __schema { queryType { name } } }"


def production(settings: Settings, **switches: bool) -> Starlette:
    return create_app(
        Settings.model_validate(
            {
                **settings.model_dump(),
                "environment": "production",
                "secret_key": "s" * 40,
                **switches,
            }
        )
    )


@asynccontextmanager
async def client_of(app: Starlette) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://belfry.test") as client:
        yield Api(client)


async def test_production_serves_neither_graphiql_nor_introspection(settings: Settings) -> None:
    async with client_of(production(settings)) as api:
        page = await api.client.get("/graphql", headers={"accept": "text/html"})
        refused = await api.call(INTROSPECT)

    assert page.status_code == 404 and page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert refused["data"] is None
    assert all("introspection has been disabled" in e["message"] for e in refused["errors"])


async def test_production_serves_them_when_switched_on(settings: Settings) -> None:
    async with client_of(production(settings, graphiql=True, introspection=True)) as api:
        page = await api.client.get("/graphql", headers={"accept": "text/html"})
        schema = await api.data(INTROSPECT)

    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert schema["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_is_served_outside_production(api: Api) -> None:
    assert (await api.data(INTROSPECT))["__schema"]["queryType"]["name"] == "Query"


# --- browsers on other origins (CORS) ---------------------------------------------------------

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
