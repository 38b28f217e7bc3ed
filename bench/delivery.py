"""Webhook deliveries per second through the worker, beside the receiver hit directly.

Both sides send the same number of JSON POSTs to one loopback receiver process with the same
concurrency (the worker's claim batch); the system side also claims, records and publishes
each delivery through PostgreSQL.

    uv run python -m bench.delivery [--deliveries 2000]
"""

import argparse
import asyncio
import json
import os
import sys
import time

import httpx

from app.delivery.worker import CLAIM_BATCH, Worker
from app.main import create_app
from app.models import Channel, Delivery, DeliveryStatus
from app.services import channels, preferences, publishing, tenants
from app.settings import Settings
from bench.common import report, run, scratch_database
from bench.processes import serving
from tests.conftest import free_port

CATEGORY = "call.daily_summary"


async def direct(url: str, count: int) -> float:
    """The baseline: the same POSTs, CLAIM_BATCH at a time, straight from httpx."""
    body = json.dumps({"id": "x", "type": CATEGORY, "data": {"title": "t"}})
    async with httpx.AsyncClient(trust_env=False) as http:
        start = time.perf_counter()
        for first in range(0, count, CLAIM_BATCH):
            batch = range(first, min(count, first + CLAIM_BATCH))
            responses = await asyncio.gather(
                *(http.post(url, content=body, headers={"webhook-id": str(i)}) for i in batch)
            )
            assert all(r.status_code == 200 for r in responses)
        return count / (time.perf_counter() - start)


async def through_worker(settings: Settings, url: str, count: int) -> float:
    tenant = (await tenants.create_tenant(name="bench", box=settings.secret_box)).record
    await channels.update(
        tenant_id=tenant.id,
        channel=Channel.WEBHOOK,
        enabled=True,
        config={"url": url},
        box=settings.secret_box,
        allow_private_targets=settings.allow_private_targets,
    )
    await preferences.update_tenant(
        tenant_id=tenant.id, category=CATEGORY, changes=[preferences.Change(Channel.WEBHOOK, True)]
    )
    await publishing.publish_notification(
        tenant_id=tenant.id,
        recipients=[f"user-{i}" for i in range(count)],
        draft=publishing.NotificationDraft(category=CATEGORY, title="bench"),
    )
    async with httpx.AsyncClient(trust_env=False) as http:
        worker = Worker(settings, http)
        start = time.perf_counter()
        while await worker.run_once():
            pass
        elapsed = time.perf_counter() - start
    sent = await Delivery.filter(channel=Channel.WEBHOOK, status=DeliveryStatus.SENT).count()
    assert sent == count, f"{sent} of {count} sent"
    return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    command = [sys.executable, "-m", "bench.webhook_receiver", "--port", str(port)]
    async with scratch_database() as db_url:
        settings = Settings(
            database_url=db_url, allow_private_targets=True, embedded_jobs=False, gc_tuning=False
        )
        with serving(command, dict(os.environ), port):
            baseline = await direct(url, args.deliveries)
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                system = await through_worker(settings, url, args.deliveries)
    figures = {
        "deliveries": args.deliveries,
        "concurrency": CLAIM_BATCH,
        "worker_per_second": round(system, 1),
        "direct_httpx_per_second": round(baseline, 1),
        "ratio": round(system / baseline, 2),
    }
    report("delivery", figures)
    print(
        f"{args.deliveries} webhook deliveries: worker {system:.0f}/s, direct httpx "
        f"{baseline:.0f}/s -> x{figures['ratio']} of the raw rate"
    )


if __name__ == "__main__":
    run(main)
