"""Nothing is lost when a worker dies mid-send or Redis goes away."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from uuid import UUID

import httpx
import pytest

from app.delivery import worker as delivery_worker
from app.models import Delivery
from app.settings import Settings
from tests.conftest import RedisServer, serving
from tests.delivery.helpers import Receiver
from tests.delivery.test_worker import CATEGORY, webhook_tenant
from tests.helpers import Api, make_user, publish


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The receivers are on loopback, where channels may only be saved when this is allowed.
    return settings.model_copy(update={"allow_private_targets": True})


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def webhook_status(notification_id: str) -> tuple[str, int] | None:
    row = await Delivery.get_or_none(notification_id=UUID(notification_id), channel="WEBHOOK")
    return None if row is None else (str(row.status), row.attempt_count)


def webhook_is(notification_id: str, status: str, attempts: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await webhook_status(notification_id) == (status, attempts)

    return check


def received(receiver: Receiver, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(receiver.requests) >= count

    return check


async def test_a_worker_killed_mid_send_leaves_a_lease_another_reclaims(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    tenant = await webhook_tenant(api, receiver)
    [nid] = (await publish(api, tenant, ["alice"], category=CATEGORY))["notificationIds"]
    receiver.delay = 60  # the first attempt hangs, so the worker is killed in the middle of it
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": settings.db_url,
        "BELFRY_ALLOW_PRIVATE_TARGETS": "true",
        "BELFRY_DELIVERY_LEASE_SECONDS": "1",
        "BELFRY_DELIVERY_POLL_SECONDS": "0.1",
        "BELFRY_RETENTION_INTERVAL_SECONDS": "3600",
    }
    doomed = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)
    try:
        await until(received(receiver, 1))
        assert await webhook_status(nid) == ("SENDING", 1)
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
    receiver.delay = 0

    survivor = await _worker(settings)
    try:
        await until(webhook_is(nid, "SENT", 2))
    finally:
        survivor.cancel()

    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # receivers can dedupe


async def test_with_redis_stopped_deliveries_still_go_out_by_polling(
    settings: Settings, own_redis: RedisServer, receiver: Receiver
) -> None:
    live_settings = settings.model_copy(
        update={
            "broadcast_url": own_redis.url,
            "delivery_poll_seconds": 0.2,
        }
    )
    async with serving(live_settings) as live, httpx.AsyncClient(base_url=live.http_url) as client:
        api = Api(client)
        tenant = await webhook_tenant(api, receiver)
        await make_user(api, tenant, "alice")
        worker = await _worker(live_settings)
        try:
            own_redis.stop()
            [nid] = (await publish(api, tenant, ["alice"], category=CATEGORY))["notificationIds"]
            await until(webhook_is(nid, "SENT", 1))
        finally:
            worker.cancel()
            own_redis.start()
    assert len(receiver.requests) == 1


async def _worker(settings: Settings) -> asyncio.Task[None]:
    return asyncio.create_task(delivery_worker.work(settings))


async def test_a_terminated_worker_finishes_its_sends_and_leaves_nothing_sending(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given 30 webhooks a worker process is in the middle of sending (each takes a second)
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, [f"user-{i}" for i in range(30)], category=CATEGORY)
    receiver.delay = 1
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": settings.db_url,
        "BELFRY_ALLOW_PRIVATE_TARGETS": "true",
        "BELFRY_DELIVERY_POLL_SECONDS": "0.1",
        "BELFRY_SHUTDOWN_GRACE_SECONDS": "10",
    }
    worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)
    try:
        await until(received(receiver, 30))

        # when it is told to stop
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 20)
    finally:
        if worker.poll() is None:
            worker.kill()

    # then it stopped cleanly, every send it began is recorded, and none went twice
    webhooks = Delivery.filter(tenant_id=tenant.tenant_id, channel="WEBHOOK")
    statuses = [str(s) for s in await webhooks.values_list("status", flat=True)]
    assert code == 0
    assert statuses == ["SENT"] * 30
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 30


async def test_sends_cut_short_by_the_grace_period_go_back_to_the_queue(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given a worker in the middle of a send that will not finish in time
    tenant = await webhook_tenant(api, receiver)
    [nid] = (await publish(api, tenant, ["alice"], category=CATEGORY))["notificationIds"]
    receiver.delay = 60
    stop = asyncio.Event()
    quick = settings.model_copy(
        update={"allow_private_targets": True, "shutdown_grace_seconds": 0.2}
    )
    worker = asyncio.create_task(delivery_worker.work(quick, stop=stop))
    await until(received(receiver, 1))

    # when it is stopped
    stop.set()
    await worker

    # then the row is queued again, due now, its attempt not counted
    assert await webhook_status(nid) == ("QUEUED", 0)
