"""The error policy: unexpected failures masked and logged within bounds; a database that
cannot be reached is SERVICE_UNAVAILABLE."""

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.graphql.errors import MAX_LOG_LINE
from app.services import inbox, subscriptions
from app.settings import Settings
from tests.conftest import LiveServer, serving
from tests.helpers import Api, make_tenant, make_user
from tests.servers import proxying
from tests.wsclient import LEGACY_WS, GraphQLSocket


def errors_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    payload = message["payload"]
    return list(payload if isinstance(payload, list) else payload.get("errors") or [])


async def test_an_unexpected_errors_log_keeps_a_bounded_prefix_of_what_it_quotes(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant)

    async def quoting(**_: object) -> int:
        raise RuntimeError("could not use " + "x" * 100_000)

    monkeypatch.setattr(inbox, "unread_count", quoting)
    with caplog.at_level(logging.INFO):
        error = await api.error("{ unreadCount }", token=alice.token)

    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "x" * 100 in caplog.text
    assert max(len(line) for line in caplog.text.splitlines()) < MAX_LOG_LINE + 100


async def test_an_over_long_filter_is_not_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant)
    query = "query($c: String) { unreadCount(category: $c) }"

    with caplog.at_level(logging.INFO):
        error = await api.error(query, {"c": "x" * 10_000}, token=alice.token)

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "x" * (MAX_LOG_LINE + 1) not in caplog.text


async def test_a_subscription_whose_database_goes_away_is_service_unavailable(
    postgres_database: str, tmp_path: Path
) -> None:
    database = urlsplit(postgres_database)
    async with proxying(database.hostname or "127.0.0.1", database.port or 5432) as proxy:
        via_proxy = database._replace(netloc=f"{database.username}@127.0.0.1:{proxy.port}")
        settings = Settings(
            database_url=via_proxy.geturl(),
            data_dir=tmp_path,
            gc_tuning=False,
            embedded_jobs=False,
        )
        async with serving(settings) as server, httpx.AsyncClient(base_url=server.http_url) as http:
            tenant = await make_tenant()
            alice = await make_user(Api(http), tenant)
            socket = await GraphQLSocket.open(server.ws_url, alice.token)
            await socket.acknowledged()

            await proxy.cut()
            await socket.subscribe("subscription { unreadCount }")
            message = await socket.result()
            await socket.close()

    [error] = errors_of(message)
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "requestId" in error["extensions"]


async def test_a_subscription_that_fails_unexpectedly_is_masked(
    server: LiveServer, live_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant)

    async def broken(**_: object) -> AsyncIterator[int]:
        raise RuntimeError("secret internals")
        yield 0

    monkeypatch.setattr(subscriptions, "badge_counts", broken)
    socket = await GraphQLSocket.open(server.ws_url, alice.token)
    await socket.acknowledged()
    await socket.subscribe("subscription { unreadCount }")
    message = await socket.result()
    await socket.close()

    [error] = errors_of(message)
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret internals" not in str(error)


@pytest.mark.parametrize(
    "query", ["{ viewer { id } }", "mutation { deleteReadNotifications { deleted } }"]
)
async def test_a_query_or_mutation_on_a_legacy_socket_is_bad_user_input(
    server: LiveServer, live_api: Api, query: str
) -> None:
    # given a user on a socket of the legacy graphql-ws protocol, which streams subscriptions only
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant)
    socket = await GraphQLSocket.open(server.ws_url, alice.token, LEGACY_WS)
    await socket.acknowledged()

    # when they start a query or a mutation on it
    operation = await socket.subscribe(query)
    message = await socket.result()
    await socket.close()

    # then it is refused as their mistake, not masked as an unexpected error
    assert (message["id"], message["type"]) == (operation, "error")
    assert message["payload"]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "not allowed" in message["payload"]["message"]
