"""The ASGI application: /graphql (queries, mutations, GraphiQL), /healthz, /readyz, /metrics,
and the files under /static (GraphiQL's)."""

import asyncio
import gc
import logging
import signal
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from datetime import timedelta
from types import FrameType
from typing import Any, cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from starlette.websockets import WebSocket
from strawberry.subscriptions import (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.unset import UNSET, UnsetType
from tortoise.connection import get_connection
from tortoise.contrib.starlette import RegisterTortoise

from app import db, demo, metrics, origins, session_cookie
from app.auth import sign_in
from app.delivery import worker as delivery_worker
from app.encoding import dumps
from app.errors import Forbidden, RateLimited, Unauthenticated
from app.graphiql import STATIC
from app.graphql.context import Context
from app.graphql.schema import schema, with_extensions
from app.graphql.view import GraphQLView, refusal
from app.live.hub import connect_hub
from app.metrics_http import metrics_route
from app.request_ids import RequestIds
from app.services import credentials, digests, inbox_clock, retention, scheduling
from app.settings import Settings
from app.sockets import GOING_AWAY, INIT_TIMEOUT, WS_TRY_AGAIN_LATER, LiveSockets
from app.tracing import active as tracing_active
from app.tracing import configure as configure_tracing
from app.tracing import middleware as tracing_middleware
from app.tracing import schema_extensions as tracing_extensions

logger = logging.getLogger("belfry")

MAX_LOGGED_ORIGIN = 200  # an Origin header is the client's to fill
GOING_AWAY_SECONDS = 2  # on SIGTERM, how long closing the sockets may hold up the shutdown

SUBSCRIPTION_PROTOCOLS = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)

# What GraphQL clients send from a browser: the token, JSON, the media types they accept
# (graphql-response+json, multipart subscriptions), a request id, Apollo's client names.
CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept",
    "X-Request-ID",
    "apollographql-client-name",
    "apollographql-client-version",
]


class GraphQLApp(GraphQLView):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            with_extensions(tracing_extensions()) if tracing_active() else schema,
            settings,
            allowed_origins=settings.allowed_origins,
            # Websockets, and multipart/mixed streams over HTTP (Apollo Client's subscriptions).
            subscription_protocols=SUBSCRIPTION_PROTOCOLS,
            keep_alive=True,  # legacy graphql-ws "ka" frames keep proxies from cutting idle sockets
            keep_alive_interval=15,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        )
        self.sockets = LiveSockets()
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
            self.sockets.discard(websocket)
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
        if websocket not in self.sockets:
            self.sockets.close_soon(websocket, INIT_TIMEOUT)

    def encode_json(self, data: object) -> str:
        # Every subscription event is one of these per subscriber.
        return dumps(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        if isinstance(request, WebSocket):
            # Websockets authenticate once, in connection_init (on_ws_connect below); then
            # their principal is kept current (app.sockets).
            return Context(settings=self.settings, request=request, response=response)
        authorization = request.headers.get("authorization")
        cookie = session_cookie.token_in(request, self.settings)
        return await Context.build(
            self.settings, authorization, cookie, request=request, response=response
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
            raise refusal(context.request, str(error), **error.extensions) from error
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
            raise refusal(context.request, str(error), **error.extensions) from error

    async def _register(self, context: Context) -> None:
        """From here on, credential changes reach the socket (app.sockets). One that committed
        after authenticate() read the credential reached the sockets held then, which did not
        include this one yet: read it again."""
        accepted = context.principal
        assert accepted is not None
        held = self.sockets.count(accepted.credential)
        if context.request not in self.sockets and held >= self.settings.max_sockets_per_user:
            context.principal = None
            message = f"At most {held} open sockets per user or API key in one server"
            raise refusal(context.request, message, RateLimited.code)
        self.sockets.add(context.request, context)
        now = await credentials.current(accepted)
        if now is None:
            self.sockets.discard(context.request)
            context.principal = None
            message = "The API key was revoked or the token's user erased"
            raise refusal(context.request, message, Unauthenticated.code)
        if context.principal is accepted:  # else a change that came meanwhile has the last word
            context.principal = now
            self.sockets.retime(context.request)  # a rotation may have shortened its life


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


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any failure means "not ready", with the reason shown
        logger.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})


@contextmanager
def going_away_on_sigterm(graphql: GraphQLApp) -> Iterator[None]:
    """While the block runs, SIGTERM first closes the signed-in sockets with 1001 (going away)
    and ends the subscriptions streamed over HTTP, which the server would otherwise wait for,
    then reaches the handler it had (uvicorn's, which stops the server). Only where that
    handler is a function: a server under uvicorn, in the main thread."""
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous) or threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    going: set[asyncio.Task[None]] = set()

    async def go_away(signum: int, frame: FrameType | None) -> None:
        # uvicorn's handler only after the close frames are out: its shutdown would close the
        # sockets first, with 1012 (restart), which tells clients to come back here.
        graphql.streams.stop_all()
        with suppress(TimeoutError):
            await asyncio.wait_for(graphql.sockets.close_all(GOING_AWAY), GOING_AWAY_SECONDS)
        previous(signum, frame)

    def on_term(signum: int, frame: FrameType | None) -> None:
        def start() -> None:
            task = loop.create_task(go_away(signum, frame), name="going away")
            going.add(task)
            task.add_done_callback(going.discard)

        loop.call_soon_threadsafe(start)

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


async def open_database() -> None:
    """Connects before the jobs start (see db.connect_now). A database that is down is no
    reason not to start: requests answer 503, and /readyz says so, until it is back."""
    try:
        await db.connect_now()
    except Exception as error:
        if not db.is_unavailable(error):
            raise
        logger.warning("the database cannot be reached yet: %s", error)


def start_jobs(settings: Settings) -> list[asyncio.Task[None]]:
    """The background work a `belfry worker` does (delivery, digests, retention, the inbox
    clock, scheduled sends), for a server that runs on its own."""
    return [
        asyncio.create_task(
            retention.run_periodically(settings.retention_interval_seconds), name="retention"
        ),
        asyncio.create_task(delivery_worker.work(settings), name="delivery"),
        asyncio.create_task(
            digests.run_periodically(settings.digest_interval_seconds), name="digests"
        ),
        asyncio.create_task(
            inbox_clock.run_periodically(settings.inbox_clock_interval_seconds),
            name="inbox clock",
        ),
        asyncio.create_task(
            scheduling.run_periodically(settings.schedule_interval_seconds), name="schedule"
        ),
    ]


async def stop_jobs(jobs: list[asyncio.Task[None]]) -> None:
    for job in jobs:
        job.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)


def tune_gc() -> None:
    """A server holding thousands of websockets has a large heap, and each full collection
    scans all of it: measured at 200+ ms with 1,000 subscribers, stalling every socket. Objects
    from start-up live forever, so they are frozen out of collections; and young collections
    run less often, so per-event objects die by reference count instead of being promoted."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def cors(settings: Settings) -> Middleware:
    """Browsers on BELFRY_ALLOWED_ORIGINS may call the API over HTTP, as they may open
    websockets (GraphQLApp). Tokens travel in a header, or, with BELFRY_SESSION_COOKIE, in a
    cookie, which a page on another origin sends only where credentials are allowed."""
    return Middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=CORS_HEADERS,
        allow_credentials=settings.session_cookie is not None,
        expose_headers=["Retry-After"],
    )


class Application(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's own error middleware, whose 500s then carry the request id too.
        return RequestIds(super().build_middleware_stack())


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    settings.ensure_data_dir()
    configure_tracing(settings)
    graphql = GraphQLApp(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with (
            RegisterTortoise(app, config=settings.tortoise_config()),
            connect_hub(settings),
            credentials.following_credentials(
                credentials.Holders(graphql.sockets, graphql.streams)
            ),
            graphql.rate_limiter,
        ):
            await open_database()
            if settings.gc_tuning:
                tune_gc()
            jobs = start_jobs(settings) if settings.embedded_jobs else []
            try:
                with going_away_on_sigterm(graphql):
                    yield {}
            finally:
                await stop_jobs(jobs)

    application = Application(
        routes=[
            Route("/graphql", graphql),  # other methods too: the view refuses them as JSON
            WebSocketRoute("/graphql", graphql.serve_websocket),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            metrics_route(settings),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            *(demo.routes(settings) if settings.demo else []),
        ],
        middleware=[*tracing_middleware(), cors(settings)],
        lifespan=lifespan,
    )
    application.state.sockets = graphql.sockets  # this process's open websockets
    application.state.streams = graphql.streams  # and its subscriptions streamed over HTTP
    return application
