"""The ASGI application: /graphql (queries, mutations, GraphiQL), /healthz, /readyz."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType
from tortoise.connection import get_connection
from tortoise.contrib.starlette import RegisterTortoise

from app.auth import UserPrincipal, authenticate
from app.delivery import worker as delivery_worker
from app.encoding import dumps
from app.errors import Unauthenticated
from app.graphql.context import Context
from app.graphql.schema import schema
from app.graphql.view import GraphQLView
from app.pubsub import connect_hub
from app.services import digests, retention, users
from app.settings import Settings
from app.sockets import UserSockets

logger = logging.getLogger("belfry")


class GraphQLApp(GraphQLView):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            schema,
            settings,
            allowed_origins=settings.allowed_origins,
            keep_alive=True,  # legacy graphql-ws "ka" frames keep proxies from cutting idle sockets
            keep_alive_interval=15,
        )
        self.sockets = UserSockets()

    async def serve_websocket(self, websocket: WebSocket) -> None:
        """The websocket route: Strawberry's protocols, then the socket leaves the registry."""
        try:
            await self.run(websocket)
        finally:
            self.sockets.discard(websocket)

    def encode_json(self, data: object) -> str:
        # Every subscription event is one of these per subscriber.
        return dumps(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        if isinstance(request, WebSocket):
            # Websockets authenticate once, in connection_init (on_ws_connect below).
            return Context(settings=self.settings, request=request, response=response)
        return await Context.build(
            self.settings,
            request.headers.get("authorization"),
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        authorization = params.get("authorization") or params.get("Authorization")
        if authorization is None and context.request is not None:
            authorization = context.request.headers.get("authorization")
        try:
            principal = await authenticate(str(authorization) if authorization else None)
        except Unauthenticated as error:
            raise ConnectionRejectionError({"message": str(error), "code": error.code}) from error
        if principal is None:
            message = 'Send {"authorization": "Bearer <token>"} in connection_init'
            raise ConnectionRejectionError({"message": message, "code": Unauthenticated.code})
        context.principal = principal
        if isinstance(principal, UserPrincipal):
            await self._register(principal, context.request)
        return cast(UnsetType, UNSET)  # acknowledge with no payload

    async def _register(self, viewer: UserPrincipal, websocket: WebSocket) -> None:
        self.sockets.add(viewer.tenant_id, viewer.user_id, websocket)
        # An erase that committed after authenticate() read the user closed the sockets it
        # found, which did not include this one yet.
        if not await users.user_exists(tenant_id=viewer.tenant_id, user_id=viewer.user_id):
            message = "User token was issued before the user was erased"
            raise ConnectionRejectionError({"message": message, "code": Unauthenticated.code})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any failure means "not ready", with the reason shown
        logger.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})


def start_jobs(settings: Settings) -> list[asyncio.Task[None]]:
    """The background work a `belfry worker` does (delivery, digests, retention), for a server
    that runs on its own."""
    return [
        asyncio.create_task(
            retention.run_periodically(settings.retention_interval_seconds), name="retention"
        ),
        asyncio.create_task(delivery_worker.work(settings), name="delivery"),
        asyncio.create_task(
            digests.run_periodically(settings.digest_interval_seconds), name="digests"
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


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    settings.ensure_data_dir()
    graphql = GraphQLApp(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with (
            RegisterTortoise(app, config=settings.tortoise_config()),
            connect_hub(settings.broadcast_url, queue_limit=settings.subscriber_queue_limit),
            users.following_erasures(graphql.sockets),
        ):
            if settings.gc_tuning:
                tune_gc()
            jobs = start_jobs(settings) if settings.embedded_jobs else []
            try:
                yield {}
            finally:
                await stop_jobs(jobs)

    application = Starlette(
        routes=[
            Route("/graphql", graphql),  # other methods too: the view refuses them as JSON
            WebSocketRoute("/graphql", graphql.serve_websocket),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
    application.state.sockets = graphql.sockets  # this process's open user websockets
    return application
