"""/metrics over HTTP: the API's route, and the small listener `belfry worker` serves it on."""

import asyncio
import contextlib
import hmac
import logging
import os
import socket
from collections.abc import AsyncIterator, Generator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import metrics
from app.errors import BelfryError
from app.services.deliveries import queue_by_channel
from app.settings import Settings

logger = logging.getLogger("belfry.metrics")


def metrics_route(settings: Settings) -> Route:
    async def scrape(request: Request) -> Response:
        if settings.metrics_token and not _bearer_matches(request, settings.metrics_token):
            return JSONResponse(
                {"error": "Send the metrics token as Authorization: Bearer <token>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            queue = [
                metrics.QueueLine(q.channel.value, q.depth, q.oldest_age_seconds)
                for q in await queue_by_channel()
            ]
        except Exception as error:  # the process's own counters still matter without a database
            logger.warning("metrics: the delivery queue could not be read: %s", error)
            queue = []
        body, content_type = metrics.exposition(queue, request.headers.get("accept"))
        return Response(body, headers={"content-type": content_type})

    return Route("/metrics", scrape, methods=["GET"])


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


class _Listener(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The worker handles SIGTERM and SIGINT itself, and stops this server when it stops.
        yield


def listen(host: str, port: int, setting: str) -> socket.socket:
    """A socket listening on host:port; one that cannot be had is an error naming the setting
    (or option) that asked for it."""
    try:
        return socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise BelfryError(f"{setting}: cannot listen on {host}:{port} ({reason})") from error


@contextlib.asynccontextmanager
async def worker_listener(settings: Settings) -> AsyncIterator[int | None]:
    """Serves /metrics on BELFRY_WORKER_METRICS_HOST:PORT while the block runs, when a port is
    set; yields the port it listens on (None when off)."""
    if settings.worker_metrics_port is None:
        yield None
        return
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    # Bound here, so that a port in use is one clear error rather than uvicorn's exit.
    listening = listen(host, port, "BELFRY_WORKER_METRICS_PORT")
    app = Starlette(routes=[metrics_route(settings)])
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = _Listener(config)
    # Already listening: scrapes that come before the server runs wait in the backlog.
    task = asyncio.create_task(server.serve(sockets=[listening]), name="metrics")
    try:
        yield listening.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        listening.close()
