"""The retention job erases what is due and nothing else."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from app import clock as app_clock
from app.main import start_jobs, stop_jobs
from app.models import Delivery, DeliveryStatus, Notification
from app.services import retention
from app.settings import Settings
from tests.conftest import Clock
from tests.helpers import Api, TenantAccess, make_tenant, make_user, publish

DELETE = "mutation($id: ID!) { deleteNotification(id: $id) }"
SETTINGS = """
mutation($days: Int!) {
  updateSettings(input: {purgeDeletedAfterDays: $days, retentionDays: $days}) {
    purgeDeletedAfterDays
  }
}
"""


async def notification(api: Api, tenant: TenantAccess, deleted_days_ago: int | None) -> str:
    """One notification, published and soft-deleted that many days ago (None: not deleted)."""
    user = await make_user(api, tenant)
    [nid] = (await publish(api, tenant, [user.external_id]))["notificationIds"]
    if deleted_days_ago is not None:
        await api.data(DELETE, {"id": nid}, token=user.token)
        when = app_clock.now() - timedelta(days=deleted_days_ago)
        await Notification.filter(id=nid).update(deleted_at=when, created_at=when)
        await Delivery.filter(notification_id=nid).update(created_at=when)
    return str(nid)


async def remaining(ids: dict[str, Any]) -> set[str]:
    found = await Notification.filter(id__in=list(ids.values())).values_list("id", flat=True)
    return {name for name, nid in ids.items() if any(str(f) == nid for f in found)}


async def given_two_tenants(api: Api) -> dict[str, str]:
    patient, hasty = await make_tenant("Patient"), await make_tenant("Hasty")
    await api.data(SETTINGS, {"days": 10}, token=hasty.api_key)
    return {
        "patient live": await notification(api, patient, None),
        "patient deleted 100d": await notification(api, patient, 100),
        "patient deleted 30d": await notification(api, patient, 30),
        "hasty deleted 30d": await notification(api, hasty, 30),
        "hasty deleted 5d": await notification(api, hasty, 5),
    }


async def test_purges_only_deleted_notifications_past_each_tenants_age(api: Api) -> None:
    ids = await given_two_tenants(api)

    purged = await retention.run_once()

    assert purged["notifications"] == 2
    assert await remaining(ids) == {"patient live", "patient deleted 30d", "hasty deleted 5d"}


async def test_a_deleted_notification_stays_while_the_log_holds_its_deliveries(
    api: Api,
) -> None:
    # given a tenant that erases deleted notifications after 10 days, keeping its log for 90
    tenant = await make_tenant()
    await api.data(
        "mutation { updateSettings(input: {purgeDeletedAfterDays: 10}) { retentionDays } }",
        token=tenant.api_key,
    )
    nid = await notification(api, tenant, 30)

    # when the retention job runs
    purged = await retention.run_once()

    # then the log still shows the delivery, with its notification's title
    log = await api.data(
        "{ deliveries { edges { node { channel notification { id title } } } } }",
        token=tenant.api_key,
    )
    assert purged["notifications"] == 0
    assert [e["node"] for e in log["deliveries"]["edges"]] == [
        {"channel": "IN_APP", "notification": {"id": nid, "title": "Your balance is getting low"}}
    ]


async def test_what_the_clock_has_aged_is_purged(api: Api, clock: Clock) -> None:
    # Given a tenant that keeps deleted notifications and its log for 10 days, and one deleted
    tenant = await make_tenant()
    await api.data(SETTINGS, {"days": 10}, token=tenant.api_key)
    ids = {"deleted": await notification(api, tenant, 0)}

    # When 11 days have passed by the clock
    clock.advance(timedelta(days=11))
    purged = await retention.run_once()

    # Then it is gone
    assert purged["notifications"] == 1
    assert await remaining(ids) == set()


async def test_purges_in_batches(api: Api, monkeypatch) -> None:
    tenant = await make_tenant()
    ids = {str(i): await notification(api, tenant, 200) for i in range(5)}
    monkeypatch.setattr(retention, "BATCH", 2)

    assert (await retention.run_once())["notifications"] == 5
    assert await remaining(ids) == set()


async def test_the_embedded_job_runs_in_the_server(api: Api, settings: Settings) -> None:
    ids = await given_two_tenants(api)

    jobs = start_jobs(settings.model_copy(update={"retention_interval_seconds": 0.05}))
    try:
        for _ in range(100):
            if await remaining(ids) == {"patient live", "patient deleted 30d", "hasty deleted 5d"}:
                break
            await asyncio.sleep(0.05)
    finally:
        await stop_jobs(jobs)

    assert await remaining(ids) == {"patient live", "patient deleted 30d", "hasty deleted 5d"}


async def test_belfry_worker_runs_it_in_its_own_process(api: Api, settings: Settings) -> None:
    ids = await given_two_tenants(api)
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": settings.db_url,
        "BELFRY_RETENTION_INTERVAL_SECONDS": "0.1",
    }
    worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)
    try:
        for _ in range(150):
            if await remaining(ids) == {"patient live", "patient deleted 30d", "hasty deleted 5d"}:
                break
            await asyncio.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=10)

    assert await remaining(ids) == {"patient live", "patient deleted 30d", "hasty deleted 5d"}


async def test_purges_finished_deliveries_past_the_log_retention(api: Api) -> None:
    tenant = await make_tenant()
    await api.data(
        "mutation { updateSettings(input: {retentionDays: 30}) { retentionDays } }",
        token=tenant.api_key,
    )
    await publish(api, tenant, ["a", "b", "c"])
    rows = await Delivery.filter(tenant_id=tenant.tenant_id).order_by("id")
    old, old_queued, recent = rows
    long_ago = datetime.now(UTC) - timedelta(days=31)
    await Delivery.filter(id__in=[old.id, old_queued.id]).update(created_at=long_ago)
    await Delivery.filter(id=old_queued.id).update(status=DeliveryStatus.QUEUED)

    purged = await retention.purge_old_deliveries()

    left = set(await Delivery.filter(tenant_id=tenant.tenant_id).values_list("id", flat=True))
    assert purged == 1 and left == {old_queued.id, recent.id}
