"""/graphql: Belfry's view (app.http.view) over its schema, for HTTP requests and websockets.
A request is signed in by its Authorization header or the session cookie; a websocket signs in
once, in connection_init, and is then held by its credential (app.http.registry) until it
ends."""

import asyncio
import logging
from collections import Counter
from datetime import timedelta
from typing import cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.schema import BaseSchema
from strawberry.subscriptions import (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.unset import UNSET, UnsetType

from app import metrics
from app.auth import sign_in
from app.encoding import dumps
from app.errors import Forbidden, RateLimited, Unauthenticated
from app.graphql.context import Context
from app.http import origins, session_cookie
from app.http.sockets import INIT_TIMEOUT, WS_TRY_AGAIN_LATER, Socket, close
from app.http.view import GraphQLView, refusal
from app.services import credentials
from app.settings import Settings

logger = logging.getLogger("belfry")

MAX_LOGGED_ORIGIN = 200  # an Origin header is the client's to fill

SUBSCRIPTION_PROTOCOLS = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)


class GraphQLApp(GraphQLView):
    def __init__(self, schema: BaseSchema, settings: Settings) -> None:
        super().__init__(
            schema,
            settings,
            allowed_origins=settings.allowed_origins,
            # Websockets, and multipart/mixed streams over HTTP (Apollo Client's subscriptions).
            subscription_protocols=SUBSCRIPTION_PROTOCOLS,
            keep_alive=True,  # legacy graphql-ws "ka" frames keep proxies from cutting idle sockets
            keep_alive_interval=15,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        )
        self.per_address: Counter[str] = Counter()

    async def serve_websocket(self, websocket: WebSocket) -> None:
        """The websocket route: Strawberry's protocols, then the socket leaves the registry.
        A page on an origin not allowed, and a client address over its share, are refused
        before the handshake completes (HTTP 403), and a socket that does not sign in in time
        is closed, whichever the protocol (Strawberry times out graphql-transport-ws only)."""
        if not self._origin_allowed(websocket):
            await websocket.close()
            return
        address = websocket.client.host if websocket.client else ""
        if self.per_address[address] >= self.settings.max_sockets_per_address:
            await websocket.close(code=WS_TRY_AGAIN_LATER, reason="too many sockets from here")
            return
        self.per_address[address] += 1
        unsigned = asyncio.get_running_loop().call_later(
            self.settings.ws_init_timeout_seconds, self._close_if_unsigned, websocket
        )
        open_sockets = metrics.WEBSOCKETS.labels(protocol_of(websocket))
        open_sockets.inc()
        try:
            await self.run(websocket)
        finally:
            open_sockets.dec()
            unsigned.cancel()
            self.connections.let_go(Socket(websocket))
            self.per_address[address] -= 1
            if not self.per_address[address]:
                del self.per_address[address]

    def _origin_allowed(self, websocket: WebSocket) -> bool:
        """Browsers always say where a handshake comes from; other clients carry no cookies
        to abuse. Checked here, before Strawberry's own check, which ignores the scheme."""
        if "origin" not in websocket.headers:
            return True
        if origins.is_allowed(websocket, self.settings, star=True):
            return True
        logger.warning(
            "refused a websocket from origin %r: list it in BELFRY_ALLOWED_ORIGINS if its "
            "pages may connect",
            websocket.headers["origin"][:MAX_LOGGED_ORIGIN],
        )
        return False

    def _close_if_unsigned(self, websocket: WebSocket) -> None:
        if Socket(websocket) not in self.connections:
            self.connections.later(close(websocket, INIT_TIMEOUT))

    def encode_json(self, data: object) -> str:
        # Every subscription event is one of these per subscriber.
        return dumps(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        if isinstance(request, WebSocket):
            # Websockets authenticate once, in connection_init (on_ws_connect below); then
            # their principal is kept current (app.http.registry).
            return Context(settings=self.settings, request=request, response=response)
        sub_response = cast(Response, response)  # what Strawberry passes for HTTP
        authorization = request.headers.get("authorization")
        cookie = session_cookie.token_in(request, self.settings)
        return await Context.build(
            self.settings,
            authorization,
            cookie,
            request=request,
            response=sub_response,
            session_cookie=session_cookie.RequestCookie(request, sub_response, self.settings),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        authorization = credential_in(context.connection_params or {})
        # Read once: an open socket keeps its principal, not a copy of the token it sent.
        context.connection_params = None
        if authorization is None and context.request is not None:
            authorization = context.request.headers.get("authorization")
        cookie = None
        if authorization is None and context.request is not None:
            cookie = session_cookie.token_in(context.request, self.settings)
        if cookie and not session_cookie.from_allowed_origin(context.request, self.settings):
            message = "A socket signed in by the session cookie must come from an allowed origin"
            raise refusal(context.request, message, Forbidden.code)
        try:
            principal = await sign_in(
                str(authorization) if authorization else None,
                cookie,
                box=self.settings.secret_box,
            )
        except Unauthenticated as error:
            await self._count_failed_sign_in(context)
            raise refusal(context.request, str(error), error.code) from error
        if principal is None:
            await self._count_failed_sign_in(context)
            message = 'Send {"authorization": "Bearer <token>"} in connection_init'
            raise refusal(context.request, message, Unauthenticated.code)
        context.principal = principal
        await self._register(context)
        return cast(UnsetType, UNSET)  # acknowledge with no payload

    async def _count_failed_sign_in(self, context: Context) -> None:
        """A refused sign-in counts against the client address, as a refused request does, so
        tokens cannot be guessed faster over websockets."""
        client = context.request.client if context.request is not None else None
        try:
            await self.rate_limiter.check(None, client.host if client else None)
        except RateLimited as error:
            raise refusal(
                context.request, str(error), error.code, retryAfterSeconds=error.retry_after
            ) from error

    async def _register(self, context: Context) -> None:
        """From here on, credential changes reach the socket (app.http.registry). One that
        committed after authenticate() read the credential reached the sockets held then,
        which did not include this one yet: read it again."""
        accepted = context.principal
        assert accepted is not None
        socket = Socket(context.request)
        held = self.connections.count(accepted.credential, Socket)
        if socket not in self.connections and held >= self.settings.max_sockets_per_user:
            context.principal = None
            message = f"At most {held} open sockets per user or API key in one server"
            raise refusal(context.request, message, RateLimited.code)
        self.connections.hold(socket, context)
        now = await credentials.current(accepted)
        if now is None:
            self.connections.let_go(socket)
            context.principal = None
            message = "The API key was revoked or the token's user erased"
            raise refusal(context.request, message, Unauthenticated.code)
        if context.principal is accepted:  # else a change that came meanwhile has the last word
            context.principal = now
            self.connections.retime(socket)  # a rotation may have shortened its life


def protocol_of(websocket: WebSocket) -> str:
    """The subprotocol the client asked for that Belfry speaks (a bounded label), else none."""
    asked = websocket.scope.get("subprotocols") or ()
    return next((p for p in asked if p in SUBSCRIPTION_PROTOCOLS), "none")


def credential_in(params: dict[str, object]) -> object:
    """The credential a client put in connection_init: as `authorization` (Belfry's own
    spelling) or `Authorization`, at the top or under `headers` (Apollo's and Hasura's habit)."""
    headers = params.get("headers")
    for where in (params, headers if isinstance(headers, dict) else {}):
        for name in ("authorization", "Authorization"):
            if where.get(name):
                return where[name]
    return None
