"""Rate limits per API key, per user and per client address, over HTTP and websockets."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app import clock as app_clock
from app.http.ratelimit import RedisCounter
from app.main import create_app
from app.models import Notification
from app.settings import Settings
from tests.conftest import Clock, RedisServer, serving
from tests.helpers import PUBLISH, Api, TenantAccess, make_tenant, make_user
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

# Counting does not touch the database, so one kind of database is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

WINDOW = 3600.0  # a long window, which a test does not outlast
ADDRESS = "203.0.113.7"
VIEWER = "{ viewer { id } }"
UNREAD = "{ unreadCount }"
MARK_ALL = "mutation { markAllNotificationsRead { marked } }"


def with_limits(settings: Settings, window: float = WINDOW, **limits: Any) -> Settings:
    """Limits not named stay at their (high) defaults."""
    update = {f"rate_limit_{name}": value for name, value in limits.items()}
    return settings.model_copy(update={"rate_limit_window_seconds": window, **update})


def fresh_window(clock: Clock, window: float, at_least: float) -> None:
    """Moves the clock to the next window when less than `at_least` seconds are left in this
    one (the windows are aligned on the clock), so what a test counts falls in one window."""
    left = window - app_clock.now().timestamp() % window
    if left < at_least:
        clock.advance(timedelta(seconds=left + 0.05))


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Starlette]:
    EXECUTOR_CACHE.clear()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def client(app: Starlette, address: str = ADDRESS) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://belfry.test") as http:
        yield Api(http)


async def post(
    api: Api, query: str, token: str | None = None, variables: dict[str, Any] | None = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await api.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


async def publish_as(api: Api, tenant: TenantAccess, title: str) -> httpx.Response:
    variables = {"input": {"recipients": ["alice"], "category": "a.b", "title": title}}
    return await post(api, PUBLISH, tenant.api_key, variables)


def assert_rate_limited(response: httpx.Response) -> int:
    """Checks the 429 answer and returns its retry hint."""
    assert response.status_code == 429, response.text
    body = response.json()
    [error] = body["errors"]
    assert set(body) == {"errors"}
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfterSeconds"]
    assert isinstance(retry_after, int) and 0 < retry_after <= WINDOW
    assert response.headers["retry-after"] == str(retry_after)
    return retry_after


def code_of(response: httpx.Response) -> str | None:
    assert response.status_code == 200, response.text
    errors = response.json().get("errors") or [{}]
    code: str | None = errors[0].get("extensions", {}).get("code")
    return code


async def test_an_api_key_over_its_limit_gets_429_and_its_publish_does_not_run(
    settings: Settings,
    clock: Clock,
) -> None:
    async with running(with_limits(settings, api_key=2)) as app, client(app) as api:
        tenant = await make_tenant()
        fresh_window(clock, WINDOW, at_least=30)
        for title in ("first", "second"):
            assert code_of(await publish_as(api, tenant, title)) is None

        assert_rate_limited(await publish_as(api, tenant, "third"))

        published = await Notification.filter(tenant_id=tenant.tenant_id)
        assert sorted(n.title for n in published) == ["first", "second"]


async def test_a_user_over_the_limit_gets_429_and_the_mutation_does_not_run(
    settings: Settings,
    clock: Clock,
) -> None:
    async with running(with_limits(settings, user=2)) as app, client(app) as api:
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        await publish_as(api, tenant, "unread")
        fresh_window(clock, WINDOW, at_least=30)
        for _ in range(2):
            assert (await post(api, UNREAD, alice.token)).json()["data"] == {"unreadCount": 1}

        assert_rate_limited(await post(api, MARK_ALL, alice.token))

        notification = await Notification.get(tenant_id=tenant.tenant_id)
        assert notification.read_at is None


async def test_each_caller_has_a_limit_of_its_own(settings: Settings, clock: Clock) -> None:
    async with running(with_limits(settings, user=1, anonymous=1)) as app, client(app) as api:
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        bob = await make_user(api, tenant, "bob")
        fresh_window(clock, WINDOW, at_least=30)
        assert code_of(await post(api, VIEWER, alice.token)) is None
        assert_rate_limited(await post(api, VIEWER, alice.token))

        assert code_of(await post(api, VIEWER, bob.token)) is None
        assert code_of(await post(api, VIEWER)) == "UNAUTHENTICATED"
        assert code_of(await publish_as(api, tenant, "from the API key")) is None


async def test_anonymous_requests_are_limited_by_address(settings: Settings, clock: Clock) -> None:
    async with running(with_limits(settings, anonymous=2)) as app:
        tenant = await make_tenant()
        async with client(app) as api, client(app, "198.51.100.9") as neighbour:
            alice = await make_user(api, tenant, "alice")
            fresh_window(clock, WINDOW, at_least=30)
            for _ in range(2):
                assert code_of(await post(api, VIEWER)) == "UNAUTHENTICATED"

            assert_rate_limited(await post(api, VIEWER))

            assert code_of(await post(neighbour, VIEWER)) == "UNAUTHENTICATED"
            assert code_of(await post(api, VIEWER, alice.token)) is None  # valid credentials


async def test_a_request_with_a_bad_token_counts_against_the_address(
    settings: Settings, clock: Clock
) -> None:
    async with running(with_limits(settings, anonymous=2)) as app, client(app) as api:
        fresh_window(clock, WINDOW, at_least=30)
        assert code_of(await post(api, VIEWER, "bfk_guessed")) == "UNAUTHENTICATED"
        assert code_of(await post(api, VIEWER, "eyJ.not.a-token")) == "UNAUTHENTICATED"

        assert_rate_limited(await post(api, VIEWER, "bfk_another_guess"))
        assert_rate_limited(await post(api, VIEWER))


async def test_an_ipv6_client_is_counted_by_its_64(settings: Settings, clock: Clock) -> None:
    async with running(with_limits(settings, anonymous=1)) as app:
        fresh_window(clock, WINDOW, at_least=30)
        async with client(app, "2001:db8:1:2::1") as api:
            assert code_of(await post(api, VIEWER)) == "UNAUTHENTICATED"
        async with client(app, "2001:db8:1:2::ffff") as same_network:
            assert_rate_limited(await post(same_network, VIEWER))
        async with client(app, "2001:db8:1:3::1") as next_network:
            assert code_of(await post(next_network, VIEWER)) == "UNAUTHENTICATED"


async def test_a_limit_of_zero_is_off(settings: Settings) -> None:
    limits = with_limits(settings, api_key=0, user=0, anonymous=0)
    async with running(limits) as app, client(app) as api:
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        for i in range(5):
            assert code_of(await publish_as(api, tenant, f"n{i}")) is None
            assert code_of(await post(api, UNREAD, alice.token)) is None
            assert code_of(await post(api, VIEWER)) == "UNAUTHENTICATED"


async def test_two_apps_on_one_redis_share_a_limit(
    settings: Settings, redis_url: str, clock: Clock
) -> None:
    shared = with_limits(settings, api_key=3).model_copy(update={"rate_limit_url": redis_url})
    async with running(shared) as first, running(shared) as second:
        tenant = await make_tenant()
        async with client(first) as one, client(second) as other:
            fresh_window(clock, WINDOW, at_least=30)
            assert code_of(await publish_as(one, tenant, "1")) is None
            assert code_of(await publish_as(other, tenant, "2")) is None
            assert code_of(await publish_as(one, tenant, "3")) is None

            assert_rate_limited(await publish_as(other, tenant, "4"))
            assert_rate_limited(await publish_as(one, tenant, "5"))


async def test_requests_are_served_while_redis_is_down(
    settings: Settings,
    own_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
    clock: Clock,
) -> None:
    on_redis = with_limits(settings, api_key=1).model_copy(update={"rate_limit_url": own_redis.url})
    async with running(on_redis) as app, client(app) as api:
        tenant = await make_tenant()
        fresh_window(clock, WINDOW, at_least=30)
        own_redis.stop()

        with caplog.at_level(logging.WARNING, logger="belfry.ratelimit"):
            for i in range(3):
                assert code_of(await publish_as(api, tenant, f"n{i}")) is None

        warnings = [r for r in caplog.records if r.name == "belfry.ratelimit"]
        assert len(warnings) == 1 and "rate limits are off" in warnings[0].getMessage()

        own_redis.start()  # empty: counting starts again once the check tries it
        for _ in range(5):
            clock.advance(RedisCounter.PAUSE)  # when the check tries Redis again
            response = await publish_as(api, tenant, "again")
            if response.status_code == 429:
                break
        assert_rate_limited(response)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_websocket_operation_over_the_limit_is_refused_and_the_socket_lives_on(
    settings: Settings, protocol: str, clock: Clock
) -> None:
    window = 60.0
    async with serving(with_limits(settings, window=window, user=2)) as server:
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            alice = await make_user(Api(http), await make_tenant(), "alice")
        socket = await GraphQLSocket.open(server.ws_url, alice.token, protocol)
        await socket.acknowledged()  # connecting is not an operation
        fresh_window(clock, window, at_least=window)  # from the start of a window
        first = await socket.subscribe("subscription { unreadCount }")
        assert await socket.next(first) == {"unreadCount": 0}
        second = await socket.subscribe("subscription { unreadCount }")
        assert await socket.next(second) == {"unreadCount": 0}

        third = await socket.subscribe("subscription { unreadCount }")
        refused = await socket.result()

        assert refused["type"] == "error" and refused["id"] == third
        [error] = refused["payload"] if protocol == TRANSPORT_WS else [refused["payload"]]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        retry_after = error["extensions"]["retryAfterSeconds"]
        assert 1 <= retry_after <= window
        async with httpx.AsyncClient(base_url=server.http_url) as http:  # one limit for both
            assert_rate_limited(await post(Api(http), VIEWER, alice.token))
        clock.advance(timedelta(seconds=retry_after))
        fourth = await socket.subscribe("subscription { unreadCount }")
        assert await socket.next(fourth) == {"unreadCount": 0}
        await socket.close()


async def test_refused_websocket_sign_ins_count_against_the_address(settings: Settings) -> None:
    # given a server that lets an address fail to sign in twice a window
    async with serving(with_limits(settings, anonymous=2)) as live:
        # when one address keeps trying bad tokens over websockets
        answers = []
        for _ in range(3):
            socket = await GraphQLSocket.open(live.ws_url, "not-a-token", LEGACY_WS)
            answers.append(await socket.result())
            await socket.close()

    # then the third try is refused for the rate, with a retry hint
    assert [a["type"] for a in answers] == ["connection_error"] * 3
    assert answers[2]["payload"]["code"] == "RATE_LIMITED"
    assert answers[2]["payload"]["retryAfterSeconds"] > 0
    assert answers[0]["payload"]["code"] == "UNAUTHENTICATED"
