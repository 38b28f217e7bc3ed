"""The loop every background job runs in (retention, digests, the inbox clock, scheduled
sends): one run every so often; a run that fails is logged, counted and tried again at the
next interval, never fatal."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Counter


async def every(
    interval_seconds: float,
    run: Callable[[], Awaitable[object]],
    *,
    runs: Counter,  # labelled by outcome: ok or error
    logger: logging.Logger,
    what: str,
) -> None:
    while True:
        try:
            await run()
        except Exception:  # tried again at the next interval
            logger.exception("%s failed", what)
            runs.labels("error").inc()
        else:
            runs.labels("ok").inc()
        await asyncio.sleep(interval_seconds)
