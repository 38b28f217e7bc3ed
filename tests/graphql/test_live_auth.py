"""An open websocket is authorised as of now, not as of when it connected: a revoked API key,
an expired token or the end of its signing secret's grace closes it, and a changed role
applies to its next operation and event."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from app import clock as app_clock
from app.auth import UserPrincipal
from app.errors import Unauthenticated
from app.graphql.context import Context
from app.models import Role
from app.settings import Settings
from tests.conftest import Clock, LiveServer, RedisServer, serving_on_redis
from tests.helpers import (
    UPSERT_USER,
    Api,
    TenantAccess,
    make_tenant,
    make_user,
    publish,
    signing_secret_of,
)
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

CREATE_KEY = "mutation($name: String!) { createApiKey(name: $name) { key apiKey { id } } }"
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(id: $id) { id } }"
API_KEYS = "{ apiKeys { id name } }"
STATUS = "subscription { deliveryStatus { notificationId } }"
UNREAD = "subscription { unreadCount }"
MARK_ALL = "mutation { markAllNotificationsRead { marked } }"

Refusal = tuple[int, str] | str  # the socket's close (code, reason), or an error's code


@pytest.fixture
async def tenant(server: LiveServer) -> TenantAccess:
    return await make_tenant()


async def second_key(api: Api, tenant: TenantAccess) -> tuple[str, str]:
    """Another API key of the tenant: (its id, the key)."""
    created = (await api.data(CREATE_KEY, {"name": "second"}, token=tenant.api_key))["createApiKey"]
    return created["apiKey"]["id"], created["key"]


async def connected(server: LiveServer, token: str, protocol: str = TRANSPORT_WS) -> GraphQLSocket:
    socket = await GraphQLSocket.open(server.ws_url, token, protocol)
    await socket.acknowledged()
    return socket


async def execute(socket: GraphQLSocket, query: str) -> dict[str, Any]:
    """A query or mutation over the socket (graphql-transport-ws: the legacy protocol runs only
    subscriptions): its result payload."""
    op = await socket.subscribe(query)
    message = await socket.result()
    assert message.get("id") == op and message["type"] in ("next", "data"), message
    assert (await socket.result())["type"] == "complete"
    payload: dict[str, Any] = message["payload"]
    return payload


async def refusal(socket: GraphQLSocket, query: str) -> Refusal:
    """Sends an operation that must not run: how it was refused."""
    try:
        op = await socket.subscribe(query)
        message = await socket.result(timeout=2)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "closed without a close frame"
        return closed.rcvd.code, closed.rcvd.reason
    assert message.get("id") == op, message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    code: str = errors[0]["extensions"]["code"]
    return code


async def key_names(api: Api, tenant: TenantAccess) -> set[str]:
    return {k["name"] for k in (await api.data(API_KEYS, token=tenant.api_key))["apiKeys"]}


# --- signing in ----------------------------------------------------------------------------


def bearer(token: str) -> str:
    return f"Bearer {token}"


@pytest.mark.parametrize(
    "init",
    [
        lambda token: {"authorization": bearer(token)},
        lambda token: {"Authorization": bearer(token)},
        lambda token: {"headers": {"Authorization": bearer(token)}},  # Apollo's and Hasura's
        lambda token: {"headers": {"authorization": bearer(token)}},
    ],
    ids=["authorization", "Authorization", "headers.Authorization", "headers.authorization"],
)
async def test_connection_init_takes_the_credential_where_clients_put_it(
    server, live_api, tenant, init
) -> None:
    alice = await make_user(live_api, tenant, "alice")

    socket = await GraphQLSocket.open(server.ws_url, None, init=init(alice.token))
    await socket.acknowledged()

    assert (await execute(socket, "{ viewer { externalId } }"))["data"]["viewer"] == {
        "externalId": "alice"
    }


@pytest.mark.parametrize(
    ("init", "reason"),
    [
        ({}, 'Send {"authorization": "Bearer <token>"} in connection_init'),
        ({"authorization": "Bearer bfk_unknown"}, "Invalid or revoked API key"),
        ({"headers": {"Authorization": "Basic abc"}}, "Authorization must be 'Bearer <token>'"),
        ({"authorization": "Bearer not.a.token"}, "Malformed user token"),
    ],
)
async def test_a_refused_sign_in_says_why_in_the_close_reason(server, init, reason) -> None:
    socket = await GraphQLSocket.open(server.ws_url, None, init=init)

    assert await socket.close_frame() == (4403, reason)


# --- a revoked API key ---------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_revoked_keys_socket_is_closed_within_a_second(
    server, live_api, tenant, protocol
) -> None:
    key_id, key = await second_key(live_api, tenant)
    socket = await connected(server, key, protocol)
    await socket.subscribe(STATUS)

    await live_api.data(REVOKE_KEY, {"id": key_id}, token=tenant.api_key)

    assert await socket.close_frame(timeout=1) == (4401, "API key revoked")


async def test_a_mutation_a_revoked_key_sends_before_the_close_is_refused(
    server, live_api, tenant
) -> None:
    key_id, key = await second_key(live_api, tenant)
    socket = await connected(server, key)
    assert "errors" not in await execute(socket, API_KEYS)

    await live_api.data(REVOKE_KEY, {"id": key_id}, token=tenant.api_key)
    refused = await refusal(socket, 'mutation { createApiKey(name: "by the revoked") { key } }')

    assert refused in ((4401, "API key revoked"), "UNAUTHENTICATED")
    assert "by the revoked" not in await key_names(live_api, tenant)


async def test_other_keys_sockets_live_on(server, live_api, tenant) -> None:
    key_id, _ = await second_key(live_api, tenant)
    socket = await connected(server, tenant.api_key)

    await live_api.data(REVOKE_KEY, {"id": key_id}, token=tenant.api_key)

    assert "errors" not in await execute(socket, API_KEYS)
    await socket.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_revocation_lost_while_redis_was_down_closes_the_socket_once_it_is_back(
    settings: Settings, own_redis: RedisServer
) -> None:
    async with serving_on_redis(settings, own_redis) as (live, api):
        tenant = await make_tenant()
        key_id, key = await second_key(api, tenant)
        socket = await connected(live, key)

        own_redis.stop()
        await api.data(REVOKE_KEY, {"id": key_id}, token=tenant.api_key)  # its message is lost
        own_redis.start()

        assert await socket.close_frame(timeout=15) == (4401, "API key revoked")


# --- an expired user token -----------------------------------------------------------------


async def short_lived_token(tenant: TenantAccess, external_id: str, seconds: int) -> str:
    """As the host backend mints one (issueUserToken allows no less than a minute): it
    expires `seconds` from now by the clock."""
    secret = await signing_secret_of(tenant.tenant_id)
    expires = app_clock.now() + timedelta(seconds=seconds)
    claims = {"sub": external_id, "tid": tenant.tenant_id, "exp": expires}
    return jwt.encode(claims, secret, algorithm="HS256")


def expiry_of(token: str) -> datetime:
    return datetime.fromtimestamp(
        jwt.decode(token, options={"verify_signature": False})["exp"], UTC
    )


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_an_expired_tokens_socket_is_closed_when_it_expires(
    server, live_api, tenant, protocol, clock: Clock
) -> None:
    # Given a socket signed in with a token that expires in a minute
    await make_user(live_api, tenant, "alice")
    token = await short_lived_token(tenant, "alice", 60)
    socket = await connected(server, token, protocol)
    op = await socket.subscribe(UNREAD)
    await socket.next(op)

    # When the clock passes its expiry
    clock.set(expiry_of(token) + timedelta(seconds=1))

    # Then the socket is closed for it
    assert await socket.close_frame() == (4401, "token expired")


async def test_a_socket_lives_on_while_its_token_is_valid(
    server, live_api, tenant, clock: Clock
) -> None:
    await make_user(live_api, tenant, "alice")
    token = await short_lived_token(tenant, "alice", 60)
    socket = await connected(server, token)

    clock.set(expiry_of(token) - timedelta(seconds=1))

    assert "errors" not in await execute(socket, "{ viewer { id } }")
    await socket.close()


async def test_an_operation_after_the_expiry_is_refused(
    server, live_api, tenant, clock: Clock
) -> None:
    alice = await make_user(live_api, tenant, "alice")
    await publish(live_api, tenant, ["alice"])
    token = await short_lived_token(tenant, "alice", 60)
    socket = await connected(server, token)
    assert "errors" not in await execute(socket, "{ viewer { id } }")

    clock.set(expiry_of(token) + timedelta(seconds=1))
    refused = await refusal(socket, MARK_ALL)

    assert refused in ((4401, "token expired"), "UNAUTHENTICATED")
    assert (await live_api.data("{ unreadCount }", token=alice.token))["unreadCount"] == 1


def test_a_context_refuses_a_principal_whose_token_has_expired() -> None:
    principal = UserPrincipal(
        tenant_id=uuid4(),
        user_id=uuid4(),
        external_id="alice",
        role=Role.MEMBER,
        expires_at=datetime.now(UTC) - timedelta(milliseconds=1),
        signed_with=1,
    )
    context = Context(settings=Settings(), principal=principal)

    with pytest.raises(Unauthenticated, match="expired"):
        context.require_principal()


# --- a rotated signing secret -------------------------------------------------------------


def rotate(grace: int) -> str:
    return f"mutation {{ rotateSigningSecret(graceSeconds: {grace}) }}"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_an_old_tokens_socket_is_closed_when_the_grace_ends(
    server, live_api, tenant, protocol, clock: Clock
) -> None:
    # Given a socket signed in with a token of the current secret
    alice = await make_user(live_api, tenant, "alice")
    socket = await connected(server, alice.token, protocol)
    op = await socket.subscribe(UNREAD)
    await socket.next(op)

    # When the secret is rotated with a minute's grace, and the minute passes with no request
    await live_api.data(rotate(60), token=tenant.api_key)
    clock.advance(timedelta(seconds=61))

    # Then the socket is closed as the grace ends, well before the token expires
    assert await socket.close_frame() == (4401, "signing secret rotated")


async def test_an_old_tokens_socket_lives_on_within_the_grace(server, live_api, tenant) -> None:
    alice = await make_user(live_api, tenant, "alice")
    socket = await connected(server, alice.token)

    await live_api.data(rotate(3600), token=tenant.api_key)

    assert (await execute(socket, "{ viewer { externalId } }"))["data"]["viewer"] == {
        "externalId": "alice"
    }
    await socket.close()


async def test_a_rotation_without_grace_closes_old_sockets_and_spares_new_ones(
    server, live_api, tenant
) -> None:
    # Given a socket of the current secret
    alice = await make_user(live_api, tenant, "alice")
    old = await connected(server, alice.token)

    # When the secret is rotated with no grace, and a new token signs in
    await live_api.data(rotate(0), token=tenant.api_key)
    fresh = await make_user(live_api, tenant, "alice")
    new = await connected(server, fresh.token)

    # Then the old socket is closed at once, and the new one works
    assert await old.close_frame(timeout=5) == (4401, "signing secret rotated")
    assert "errors" not in await execute(new, "{ viewer { id } }")
    await new.close()


async def test_a_second_rotation_closes_the_first_secrets_sockets_at_once(
    server, live_api, tenant
) -> None:
    alice = await make_user(live_api, tenant, "alice")
    socket = await connected(server, alice.token)
    await live_api.data(rotate(3600), token=tenant.api_key)

    await live_api.data(rotate(3600), token=tenant.api_key)

    assert await socket.close_frame(timeout=5) == (4401, "signing secret rotated")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_rotation_lost_while_redis_was_down_closes_old_sockets_once_it_is_back(
    settings: Settings, own_redis: RedisServer
) -> None:
    async with serving_on_redis(settings, own_redis) as (live, api):
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        socket = await connected(live, alice.token)

        own_redis.stop()
        await api.data(rotate(0), token=tenant.api_key)  # its message is lost
        own_redis.start()

        assert await socket.close_frame(timeout=15) == (4401, "signing secret rotated")


# --- a changed role ------------------------------------------------------------------------


async def set_role(api: Api, tenant: TenantAccess, external_id: str, role: str) -> None:
    variables = {"input": {"externalId": external_id, "role": role}}
    await api.data(UPSERT_USER, variables, token=tenant.api_key)


async def test_a_demoted_admins_next_admin_query_on_the_same_socket_is_forbidden(
    server, live_api, tenant
) -> None:
    admin = await make_user(live_api, tenant, "adm", role="ADMIN")
    socket = await connected(server, admin.token)
    assert "errors" not in await execute(socket, API_KEYS)

    await set_role(live_api, tenant, "adm", "MEMBER")
    after = await execute(socket, API_KEYS)

    assert after["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await socket.close()


async def test_a_promoted_members_next_admin_query_is_let_in(server, live_api, tenant) -> None:
    member = await make_user(live_api, tenant, "mem")
    socket = await connected(server, member.token)
    assert "errors" in await execute(socket, API_KEYS)

    await set_role(live_api, tenant, "mem", "ADMIN")
    after = await execute(socket, API_KEYS)

    assert "errors" not in after and after["data"]["apiKeys"]
    await socket.close()


async def test_a_demoted_admins_delivery_status_stops_showing_other_users_deliveries(
    server, live_api, tenant
) -> None:
    admin = await make_user(live_api, tenant, "adm", role="ADMIN")
    await make_user(live_api, tenant, "bob")
    socket = await connected(server, admin.token)
    op = await socket.subscribe(STATUS)
    [bobs] = (await publish(live_api, tenant, ["bob"]))["notificationIds"]
    assert (await socket.next(op))["deliveryStatus"]["notificationId"] == bobs

    await set_role(live_api, tenant, "adm", "MEMBER")
    await publish(live_api, tenant, ["bob"])
    [own] = (await publish(live_api, tenant, ["adm"]))["notificationIds"]

    # bob's delivery went out first: the next event is the admin's own
    assert (await socket.next(op))["deliveryStatus"]["notificationId"] == own
    await socket.close()
