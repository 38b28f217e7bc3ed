"""Subscriptions streamed over HTTP (multipart/mixed), held by the credential each was asked
with in the credential registry (app.http.registry), as websockets are: a credential revoked,
erased or expired (or the grace of the rotated signing secret of its token ending) ends its
streams at once, and so does the server stopping, which would otherwise wait for them; a
changed role applies to their next event. A stream that is ended has a last event saying
why."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from app.auth import CredentialGone
from app.errors import RateLimited, ServiceUnavailable, Unauthenticated
from app.graphql.context import Context
from app.http.registry import GONE, CredentialRegistry

STOPPING = GraphQLError(
    "The server is stopping: subscribe again (another server will take it)",
    extensions={"code": ServiceUnavailable.code},
)


@dataclass(slots=True, eq=False)
class Stream:
    """One subscription streamed over HTTP; once ended, its last event is `ending`'s error."""

    ending: asyncio.Future[GraphQLError] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    async def end(self, why: CredentialGone) -> None:
        message = f"Credential gone ({GONE[why]}); subscribe with a new one"
        self._last(GraphQLError(message, extensions={"code": Unauthenticated.code}))

    async def stop(self) -> None:
        self._last(STOPPING)

    def _last(self, error: GraphQLError) -> None:
        if not self.ending.done():
            self.ending.set_result(error)


def make_room(registry: CredentialRegistry, context: Context, most: int) -> None:
    """Refuses a stream over the credential's share, as a websocket is refused."""
    principal = context.principal
    held = registry.count(principal.credential, Stream) if principal else 0
    if held >= most:
        raise RateLimited(
            f"At most {held} subscriptions over HTTP per user or API key in one server: end "
            "one first",
            retry_after=1,
        )


async def follow(
    registry: CredentialRegistry, events: AsyncIterator[ExecutionResult], context: Context
) -> AsyncGenerator[ExecutionResult, None]:
    """`events`, held by the context's credential from the first one on, until they end or
    are ended."""
    stream = Stream()
    registry.hold(stream, context)
    if registry.stopping:
        await stream.stop()
    try:
        async for event in _until(events, stream.ending):
            yield event
    finally:
        registry.let_go(stream)


async def _until(
    events: AsyncIterator[ExecutionResult], ending: asyncio.Future[GraphQLError]
) -> AsyncGenerator[ExecutionResult, None]:
    """`events`, then, once `ending` has its error, that error as the last event."""
    following: asyncio.Future[ExecutionResult] | None = None
    try:
        while not ending.done():
            following = asyncio.ensure_future(anext(events))
            either: list[asyncio.Future[Any]] = [following, ending]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                break
            try:
                yield following.result()
            except StopAsyncIteration:
                return
        await _stop(following)
        yield ExecutionResult(data=None, errors=[ending.result()])
    finally:
        # Ended, or the client went away (this is cancelled): the events' generator may be
        # closed only once nothing runs it.
        await _stop(following)
        if isinstance(events, AsyncGenerator):
            await events.aclose()


async def _stop(following: asyncio.Future[ExecutionResult] | None) -> None:
    if following is not None and not following.done():
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await following
