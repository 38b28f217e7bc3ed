"""The HTTP and websocket transport of one server, assembled: /graphql (app.http.endpoint),
/healthz and /readyz, /metrics, GraphiQL's files under /static, behind CORS and request ids;
and what it runs while the server serves: credential changes followed into its connections,
the rate limiter's connection, and SIGTERM closing its sockets before the server stops."""

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from types import FrameType

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Lifespan
from strawberry.schema import BaseSchema

from app.http.endpoint import GraphQLApp
from app.http.graphiql import STATIC
from app.http.health import healthz, readyz
from app.http.metrics import metrics_route
from app.http.registry import CredentialRegistry
from app.http.request_ids import RequestIds
from app.services import credentials
from app.settings import Settings
from app.tracing import middleware as tracing_middleware

GOING_AWAY_SECONDS = 2  # on SIGTERM, how long closing the sockets may hold up the shutdown

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


class Transport:
    def __init__(self, settings: Settings, schema: BaseSchema) -> None:
        self.settings = settings
        self.graphql = GraphQLApp(schema, settings)

    @property
    def connections(self) -> CredentialRegistry:
        """This process's open websockets and subscriptions streamed over HTTP."""
        return self.graphql.connections

    def application(
        self, lifespan: Lifespan[Starlette], more_routes: Sequence[BaseRoute] = ()
    ) -> Starlette:
        application = Application(
            routes=[
                Route("/graphql", self.graphql),  # other methods too: the view refuses them
                WebSocketRoute("/graphql", self.graphql.serve_websocket),
                Route("/healthz", healthz),
                Route("/readyz", readyz),
                metrics_route(self.settings),
                Mount("/static", StaticFiles(directory=STATIC), name="static"),
                *more_routes,
            ],
            middleware=[*tracing_middleware(), cors(self.settings)],
            lifespan=lifespan,
        )
        application.state.connections = self.connections
        return application

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """While the block runs, credential changes made through any process reach this one's
        connections, and the rate limiter holds its connection to Redis (closed after)."""
        following = credentials.following_credentials(self.connections)
        async with following, self.graphql.rate_limiter:
            yield

    @contextmanager
    def going_away_on_sigterm(self) -> Iterator[None]:
        """While the block runs, SIGTERM first closes the signed-in sockets with 1001 (going
        away) and ends the subscriptions streamed over HTTP, which the server would otherwise
        wait for, then reaches the handler it had (uvicorn's, which stops the server). Only
        where that handler is a function: a server under uvicorn, in the main thread."""
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous) or threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        going: set[asyncio.Task[None]] = set()

        async def go_away(signum: int, frame: FrameType | None) -> None:
            # uvicorn's handler only after the close frames are out: its shutdown would close
            # the sockets first, with 1012 (restart), which tells clients to come back here.
            with suppress(TimeoutError):
                await asyncio.wait_for(self.connections.stop_all(), GOING_AWAY_SECONDS)
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


def cors(settings: Settings) -> Middleware:
    """Browsers on BELFRY_ALLOWED_ORIGINS may call the API over HTTP, as they may open
    websockets (app.http.endpoint). Tokens travel in a header, or, with BELFRY_SESSION_COOKIE,
    in a cookie, which a page on another origin sends only where credentials are allowed."""
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
