"""Subscriptions over HTTP, as Apollo Client and others send them: POSTed with a multipart
Accept header, answered as a multipart/mixed stream of events. Signed in and counted as any
HTTP request; every other way of asking for a subscription over HTTP is refused with a code."""

import asyncio
import json
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.settings import Settings
from tests.conftest import Clock, LiveServer, serving
from tests.graphql.test_live_auth import expiry_of, short_lived_token
from tests.helpers import (
    Api,
    TenantAccess,
    UserAccess,
    erase_user,
    make_tenant,
    make_user,
    publish,
)
from tests.node import run_node
from tests.processes import server_process

MULTIPART = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json'
INBOX = "subscription { inbox { kind unreadCount notification { title } } }"


@pytest.fixture
async def tenant(server: LiveServer) -> TenantAccess:
    return await make_tenant()


@pytest.fixture
async def alice(live_api: Api, tenant: TenantAccess) -> UserAccess:
    return await make_user(live_api, tenant, "alice")


async def payloads(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The events of a multipart subscription's body, without its heartbeats (`{}`)."""
    buffered = ""
    async for text in response.aiter_text():
        buffered += text
        *parts, buffered = buffered.split("\r\n--graphql")
        for part in parts:
            _, _, body = part.partition("\r\n\r\n")
            if body.strip():
                event = json.loads(body)
                if event:
                    yield event


@asynccontextmanager
async def subscribed_over_http(
    url: str, token: str | None, accept: str = MULTIPART, query: str = INBOX
) -> AsyncIterator[tuple[httpx.Response, AsyncIterator[dict[str, Any]]]]:
    headers = {"accept": accept, **({"authorization": f"Bearer {token}"} if token else {})}
    async with (
        httpx.AsyncClient(base_url=url, timeout=10) as http,
        http.stream("POST", "/graphql", json={"query": query}, headers=headers) as response,
    ):
        yield response, payloads(response)


async def until(condition: Callable[[], bool]) -> None:
    """Waits for something the server does once a client has gone, as it notices."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("it did not happen in 10 s")


async def remaining(events: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event async for event in events]


async def next_event(events: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(anext(events), 10)


async def test_a_subscription_posted_as_multipart_streams_the_inbox(
    server: LiveServer, live_api: Api, tenant: TenantAccess, alice: UserAccess
) -> None:
    async with subscribed_over_http(server.http_url, alice.token) as (response, events):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/mixed")
        sync = await next_event(events)

        await publish(live_api, tenant, ["alice"], title="over HTTP")
        created = await next_event(events)

    assert sync["payload"]["data"]["inbox"]["kind"] == "SYNC"
    assert created["payload"]["data"]["inbox"] == {
        "kind": "CREATED",
        "unreadCount": 1,
        "notification": {"title": "over HTTP"},
    }


async def test_a_multipart_subscription_without_credentials_is_unauthenticated(
    server: LiveServer,
) -> None:
    async with subscribed_over_http(server.http_url, None) as (response, events):
        refusal = await next_event(events)
        rest = await asyncio.wait_for(remaining(events), 10)

    assert response.status_code == 200  # the stream has started: its one event says why
    [error] = refusal["payload"]["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert rest == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_multipart_subscription_counts_against_the_rate_limit(
    settings: Settings,
) -> None:
    limited = settings.model_copy(update={"rate_limit_user": 1, "rate_limit_window_seconds": 3600})
    async with serving(limited) as live, httpx.AsyncClient(base_url=live.http_url) as http:
        alice = await make_user(Api(http), await make_tenant(), "alice")
        async with subscribed_over_http(live.http_url, alice.token) as (first, events):
            await next_event(events)
            async with subscribed_over_http(live.http_url, alice.token) as (second, _):
                refused = json.loads(await second.aread())

    assert first.status_code == 200 and second.status_code == 429
    assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_server_told_to_stop_ends_its_multipart_streams(tmp_path: Path) -> None:
    # given a server process and a user's subscription streaming from it over HTTP
    async with server_process(tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            alice = await make_user(Api(http), server.tenant, "alice")
        async with subscribed_over_http(server.url, alice.token) as (_, events):
            await next_event(events)

            # when it gets SIGTERM
            server.process.send_signal(signal.SIGTERM)

            # then the stream ends, its last event saying why, and the server stops
            rest = await asyncio.wait_for(remaining(events), 20)
        assert await asyncio.to_thread(server.process.wait, 10) == -signal.SIGTERM

    [going_away] = rest
    assert going_away["payload"]["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_multipart_subscription_ends_when_its_user_is_erased(
    server: LiveServer, live_api: Api, tenant: TenantAccess, alice: UserAccess
) -> None:
    async with subscribed_over_http(server.http_url, alice.token) as (_, events):
        await next_event(events)

        await erase_user(live_api, tenant.api_key, "alice")
        rest = await asyncio.wait_for(remaining(events), 10)

    [ended] = rest
    [error] = ended["payload"]["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and "user erased" in error["message"]


async def test_a_multipart_subscription_ends_when_its_token_expires(
    server: LiveServer, live_api: Api, tenant: TenantAccess, alice: UserAccess, clock: Clock
) -> None:
    # given a token that expires a minute from now, streaming
    token = await short_lived_token(tenant, alice.external_id, 60)
    async with subscribed_over_http(server.http_url, token) as (_, events):
        await next_event(events)

        # when the clock passes its expiry
        clock.set(expiry_of(token) + timedelta(seconds=1))

        # then the stream ends, its last event saying why
        rest = await asyncio.wait_for(remaining(events), 10)

    error = rest[-1]["payload"]["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and "expired" in error["message"]


async def test_a_multipart_subscription_of_an_old_token_ends_when_the_grace_ends(
    server: LiveServer, live_api: Api, tenant: TenantAccess, alice: UserAccess, clock: Clock
) -> None:
    # Given alice streaming with a token of the current secret
    async with subscribed_over_http(server.http_url, alice.token) as (_, events):
        await next_event(events)

        # When the secret is rotated with a minute's grace, and the minute passes
        rotate = "mutation { rotateSigningSecret(graceSeconds: 60) }"
        await live_api.data(rotate, token=tenant.api_key)
        clock.advance(timedelta(seconds=61))

        # Then the stream ends as the grace does, its last event saying why
        rest = await asyncio.wait_for(remaining(events), 10)

    error = rest[-1]["payload"]["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "signing secret rotated" in error["message"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_user_holds_a_bounded_number_of_multipart_subscriptions(
    settings: Settings,
) -> None:
    bounded = settings.model_copy(update={"max_sockets_per_user": 1})
    async with serving(bounded) as live, httpx.AsyncClient(base_url=live.http_url) as http:
        alice = await make_user(Api(http), await make_tenant(), "alice")
        async with subscribed_over_http(live.http_url, alice.token) as (_, events):
            await next_event(events)
            async with subscribed_over_http(live.http_url, alice.token) as (second, _):
                refused = json.loads(await second.aread())
        await until(lambda: len(live.app.state.connections) == 0)  # the server saw it go
        async with subscribed_over_http(live.http_url, alice.token) as (again, events):
            resumed = await next_event(events)

    assert second.status_code == 429
    assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert again.status_code == 200 and resumed["payload"]["data"]["inbox"]["kind"] == "SYNC"


async def test_a_multipart_subscription_whose_client_goes_away_is_let_go(
    server: LiveServer, alice: UserAccess, caplog: pytest.LogCaptureFixture
) -> None:
    streams = server.app.state.connections
    async with subscribed_over_http(server.http_url, alice.token) as (_, events):
        await next_event(events)
        assert len(streams) == 1

    await until(lambda: len(streams) == 0)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


# --- transports Belfry does not serve --------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    ["application/json", "text/event-stream", "application/graphql-response+json"],
)
async def test_a_subscription_posted_for_one_answer_is_refused_saying_how_to_subscribe(
    server: LiveServer, alice: UserAccess, accept: str
) -> None:
    async with subscribed_over_http(server.http_url, alice.token, accept) as (response, _):
        body = json.loads(await response.aread())

    assert response.status_code == 400
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "websocket" in error["message"] and "multipart/mixed" in error["message"]


async def test_a_subscription_sent_with_get_is_refused_allowing_post(
    server: LiveServer, alice: UserAccess
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        response = await http.get(
            "/graphql",
            params={"query": INBOX},
            headers={"accept": MULTIPART, "authorization": f"Bearer {alice.token}"},
        )

    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_websocket_of_an_unknown_subprotocol_is_closed_with_4406(
    server: LiveServer,
) -> None:
    async with websockets.connect(server.ws_url, subprotocols=[Subprotocol("graphql-sse")]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


# --- Apollo Client -------------------------------------------------------------------------


async def test_apollo_client_subscribes_over_http_and_sees_a_published_notification(
    server: LiveServer, live_api: Api, tenant: TenantAccess, alice: UserAccess
) -> None:
    # given Apollo Client subscribed to Alice's inbox over HTTP (its multipart subscriptions)
    url = f"{server.http_url}/graphql"
    apollo = asyncio.create_task(run_node("apollo-multipart.mjs", url, alice.token, "2", "30000"))

    # when a notification is published to her, as often as needed until Apollo has it (one
    # published before it subscribed is part of its first event's state, not an event)
    while not apollo.done():
        await publish(live_api, tenant, ["alice"], title="from Apollo")
        await asyncio.wait({apollo}, timeout=0.5)
    found = apollo.result()

    # then it saw the inbox's state first, then the new notification
    assert found["outcome"] == "received" and not found["errors"], found
    sync, created = found["events"]
    assert sync["kind"] == "SYNC"
    assert created["kind"] == "CREATED" and created["notification"]["title"] == "from Apollo"
