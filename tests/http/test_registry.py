"""One registry holds a server's websockets and its subscriptions streamed over HTTP by their
credentials: what befalls a credential (erased, revoked, expired, a rotated secret's grace
ending, a new role, the server stopping) befalls every connection it holds, of either kind,
and no other."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from starlette.types import Message
from starlette.websockets import WebSocket
from strawberry.types import ExecutionResult

from app.auth import RETIRED, CredentialGone, Principal, SigningState, UserPrincipal
from app.graphql.context import Context
from app.http import streams
from app.http.registry import CredentialRegistry
from app.http.sockets import Socket
from app.http.streams import Stream
from app.models import Role
from app.settings import Settings
from tests.http.test_streams import until

TENANT = uuid4()


def user(
    name: str, *, role: Role = Role.MEMBER, expires_in: timedelta = timedelta(hours=1)
) -> UserPrincipal:
    return UserPrincipal(
        tenant_id=TENANT,
        user_id=uuid4(),
        external_id=name,
        role=role,
        expires_at=datetime.now(UTC) + expires_in,
        signed_with=1,
    )


def context_of(principal: Principal) -> Context:
    return Context(settings=Settings(), principal=principal)


def unserved_websocket() -> WebSocket:
    """A websocket no server has accepted: closing it sends nothing."""

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        raise AssertionError(f"sent {message} on a socket never accepted")

    return WebSocket({"type": "websocket", "path": "/graphql", "headers": []}, receive, send)


async def last_error_of(stream: Stream) -> dict[str, object]:
    error = await stream.ending
    return {"message": error.message, "code": (error.extensions or {}).get("code")}


async def test_a_credential_gone_ends_its_sockets_and_streams_and_no_others() -> None:
    # Given alice holding a socket and a stream, and bob a stream
    registry = CredentialRegistry()
    alice, bob = user("alice"), user("bob")
    socket, socket_context = Socket(unserved_websocket()), context_of(alice)
    stream, stream_context = Stream(), context_of(alice)
    bobs_stream, bobs_context = Stream(), context_of(bob)
    registry.hold(socket, socket_context)
    registry.hold(stream, stream_context)
    registry.hold(bobs_stream, bobs_context)

    # When alice is erased
    await registry.end(alice.credential, CredentialGone.USER_ERASED)

    # Then both of hers refuse everything from now on, her stream's last event says why, and
    # bob's goes on
    assert socket_context.principal is None and socket_context.ended == "user erased"
    assert stream_context.principal is None and stream_context.ended == "user erased"
    assert await last_error_of(stream) == {
        "message": "Credential gone (user erased); subscribe with a new one",
        "code": "UNAUTHENTICATED",
    }
    assert bobs_context.principal is bob and not bobs_stream.ending.done()


async def test_each_kind_is_counted_apart_against_its_credentials_share() -> None:
    # Given alice holding a socket and two streams
    registry = CredentialRegistry()
    alice = user("alice")
    registry.hold(Socket(unserved_websocket()), context_of(alice))
    for _ in range(2):
        registry.hold(Stream(), context_of(alice))

    # When the registry counts them, then sockets and streams have shares of their own
    assert registry.count(alice.credential, Socket) == 1
    assert registry.count(alice.credential, Stream) == 2
    assert len(registry) == 3 and registry.held() == [alice.credential]


async def test_a_socket_held_again_is_held_once_by_its_principal_now() -> None:
    # Given a socket held by alice, which signs in again as bob (the legacy protocol lets it)
    registry = CredentialRegistry()
    alice, bob = user("alice"), user("bob")
    websocket = unserved_websocket()
    registry.hold(Socket(websocket), context_of(alice))

    # When it is held again
    registry.hold(Socket(websocket), context_of(bob))

    # Then it is held once, by bob
    assert len(registry) == 1
    assert registry.held() == [bob.credential]


async def test_a_changed_role_reaches_every_connection_of_the_user() -> None:
    # Given alice, a member, holding a socket and a stream, and bob, a member too
    registry = CredentialRegistry()
    alice, bob = user("alice"), user("bob")
    contexts = [context_of(alice), context_of(alice)]
    registry.hold(Socket(unserved_websocket()), contexts[0])
    registry.hold(Stream(), contexts[1])
    bobs = context_of(bob)
    registry.hold(Stream(), bobs)

    # When alice becomes an admin
    registry.change_role(alice.credential, Role.ADMIN)

    # Then both of her connections act as an admin from now on, and bob's does not
    assert [c.require_principal() for c in contexts] == [replace(alice, role=Role.ADMIN)] * 2
    assert bobs.principal is bob


async def test_an_expired_tokens_connections_end_when_it_expires() -> None:
    # Given a token that has expired
    registry = CredentialRegistry()
    expired = user("alice", expires_in=-timedelta(hours=1))
    stream, socket_context = Stream(), context_of(expired)

    # When its connections are held
    registry.hold(stream, context_of(expired))
    registry.hold(Socket(unserved_websocket()), socket_context)

    # Then they end, saying the token expired
    assert (await last_error_of(stream))["message"] == (
        "Credential gone (token expired); subscribe with a new one"
    )
    await until(lambda: socket_context.ended is not None)
    assert socket_context.ended == "token expired"


async def test_a_rotated_secrets_connections_end_when_its_grace_ends() -> None:
    # Given a stream of a token signed with the tenant's first secret, and one signed with the
    # secret that replaced it
    registry = CredentialRegistry()
    old, new = user("alice"), replace(user("bob"), signed_with=2)
    old_stream, new_stream = Stream(), Stream()
    registry.hold(old_stream, context_of(old))
    registry.hold(new_stream, context_of(new))

    # When the tenant's servers learn the first was rotated with no grace
    registry.retire_signing_secrets(TENANT, SigningState(version=2, previous_until=RETIRED))

    # Then the old token's stream ends, saying why, and the new one's goes on
    assert (await last_error_of(old_stream))["message"] == (
        "Credential gone (signing secret rotated); subscribe with a new one"
    )
    assert not new_stream.ending.done()


async def test_a_connection_let_go_is_neither_held_nor_ended() -> None:
    # Given alice's stream, held and then let go, as when its client leaves
    registry = CredentialRegistry()
    alice = user("alice")
    stream, context = Stream(), context_of(alice)
    registry.hold(stream, context)
    registry.let_go(stream)

    # When alice is erased
    await registry.end(alice.credential, CredentialGone.USER_ERASED)

    # Then the registry holds nothing of hers, and had nothing to end
    assert stream not in registry and len(registry) == 0 and not registry.holds(alice.credential)
    assert not stream.ending.done() and context.principal is alice


async def test_a_stopping_server_ends_its_streams_and_those_asked_for_after() -> None:
    # Given a stream being followed
    registry = CredentialRegistry()
    alice = user("alice")
    stream = Stream()
    registry.hold(stream, context_of(alice))

    # When the server stops, and a stream is asked for after that
    await registry.stop_all()
    late = streams.follow(registry, _nothing(), context_of(alice))
    last = await anext(late)
    await late.aclose()

    # Then both end, saying the server is stopping
    assert (await last_error_of(stream))["code"] == "SERVICE_UNAVAILABLE"
    assert [e.extensions for e in last.errors or []] == [{"code": "SERVICE_UNAVAILABLE"}]
    assert len(registry) == 1  # the first, until its handler lets it go


async def _nothing() -> AsyncIterator[ExecutionResult]:
    await asyncio.Event().wait()
    yield ExecutionResult(data=None, errors=None)
