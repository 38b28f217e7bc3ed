"""The application as assembled: GraphiQL and introspection by environment, the error policy,
the background jobs, and a heap frozen once it has started."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from app.main import create_app
from app.services import inbox
from app.settings import Settings
from tests.helpers import Api, make_tenant, make_user


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
