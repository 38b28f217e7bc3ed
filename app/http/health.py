"""/healthz (the process answers) and /readyz (and it reaches its database)."""

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.connection import get_connection

logger = logging.getLogger("belfry")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any failure means "not ready", with the reason shown
        logger.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})
