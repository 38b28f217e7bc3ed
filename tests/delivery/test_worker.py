"""The delivery pipeline end to end: publish, queue, worker, real receivers, the log."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app import clock as app_clock
from app.crypto import SecretBox
from app.delivery.worker import Worker, claim
from app.models import ChannelConfig, Delivery, DeliveryStatus
from app.settings import Settings
from tests.conftest import Clock
from tests.delivery.helpers import Receiver
from tests.helpers import Api, TenantAccess, make_tenant, make_user, publish, store_webhook

UPDATE_CHANNEL = """
mutation($channel: Channel!, $input: ChannelConfigInput!) {
  updateChannel(channel: $channel, input: $input) { channel enabled config ready reason }
}
"""
TENANT_PREF = (
    "mutation($input: PreferenceInput!) { updateTenantPreference(input: $input) { category } }"
)
LOG = """
query($filter: DeliveryFilter) {
  deliveries(filter: $filter) {
    totalCount
    edges {
      node {
        id channel status category attemptCount lastError jobId createdAt notification { title }
      }
    }
  }
}
"""
RETRY = "mutation($id: ID!) { retryDelivery(id: $id) { status } }"
CATEGORY = "call.daily_summary"  # in the catalogue, not critical, not rate limited


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Receivers are on loopback; retries come quickly; three attempts at most.
    return settings.model_copy(
        update={
            "allow_private_targets": True,
            "delivery_backoff_seconds": 0.01,
            "delivery_max_attempts": 3,
        }
    )


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[Worker]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield Worker(settings, http)


async def drain(worker: Worker, rounds: int = 20) -> None:
    """Runs the worker until nothing is queued, moving the clock to each retry's time."""
    for _ in range(rounds):
        if not await worker.run_once() and not await to_next_retry():
            return


async def to_next_retry() -> bool:
    """Moves the clock to when the next queued delivery is due, if it is ahead: past its
    backoff. False when nothing is queued."""
    queued = Delivery.filter(status=DeliveryStatus.QUEUED, next_attempt_at__isnull=False)
    first = await queued.order_by("next_attempt_at").first()
    if first is None or first.next_attempt_at is None:
        return False
    if first.next_attempt_at > app_clock.now():
        Clock().set(first.next_attempt_at)
    return True


async def log(api: Api, tenant: TenantAccess, **filter: Any) -> list[dict[str, Any]]:
    data = await api.data(LOG, {"filter": filter}, token=tenant.api_key)
    return [e["node"] for e in data["deliveries"]["edges"]]


async def webhook_tenant(api: Api, receiver: Receiver, **config: Any) -> TenantAccess:
    tenant = await make_tenant(free_categories=False)
    await api.data(
        UPDATE_CHANNEL,
        {
            "channel": "WEBHOOK",
            "input": {"enabled": True, "config": {"url": f"{receiver.url}/hook", **config}},
        },
        token=tenant.api_key,
    )
    await api.data(
        TENANT_PREF, {"input": {"category": CATEGORY, "webhook": True}}, token=tenant.api_key
    )
    return tenant


async def test_a_webhook_delivery_is_sent_and_logged(api: Api, worker: Worker, receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    await make_user(api, tenant, "alice")

    buttons = [{"id": "open", "label": "Open", "url": "/calls", "primary": True}]
    await publish(
        api,
        tenant,
        ["alice"],
        category=CATEGORY,
        title="Daily calls",
        priority="HIGH",
        actions=buttons,
        tags=["calls"],
    )
    await drain(worker)

    request = receiver.only
    assert request.json()["type"] == CATEGORY and request.json()["data"]["title"] == "Daily calls"
    sent = request.json()["data"]
    assert (sent["priority"], sent["actions"], sent["tags"]) == ("HIGH", buttons, ["calls"])
    rows = {r["channel"]: r for r in await log(api, tenant)}
    assert rows["WEBHOOK"]["status"] == "SENT" and rows["WEBHOOK"]["attemptCount"] == 1
    assert rows["WEBHOOK"]["notification"]["title"] == "Daily calls"
    assert rows["IN_APP"]["status"] == "SENT"
    assert request.headers["webhook-id"] == rows["WEBHOOK"]["id"]


async def test_a_receiver_that_recovers_gets_it_on_the_third_attempt(
    api: Api, worker: Worker, receiver
) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice"], category=CATEGORY)

    for status in (503, 503, 200):
        receiver.status = status
        await worker.run_once()
        await to_next_retry()

    [row] = await log(api, tenant, channel="WEBHOOK")
    assert (row["status"], row["attemptCount"]) == ("SENT", 3)
    assert len(receiver.requests) == 3


async def test_a_failed_attempt_goes_again_once_its_backoff_has_passed_by_the_clock(
    api: Api, settings: Settings, receiver, clock: Clock
) -> None:
    # Given a worker that waits a minute before a first retry, and a day gone by
    patient = settings.model_copy(update={"delivery_backoff_seconds": 60})
    clock.advance(timedelta(days=1))
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice"], category=CATEGORY)
    receiver.status = 503
    async with httpx.AsyncClient(trust_env=False) as http:
        worker = Worker(patient, http)
        await worker.run_once()

        # When it runs again at once, and again once the clock has passed the backoff
        at_once = await worker.run_once()
        clock.advance(timedelta(seconds=90))
        receiver.status = 200
        later = await worker.run_once()

    # Then the delivery waited, and then went
    assert (at_once, later) == (0, 1)
    [row] = await log(api, tenant, channel="WEBHOOK")
    assert (row["status"], row["attemptCount"]) == ("SENT", 2)


async def test_a_receiver_that_keeps_failing_ends_failed_until_retried(
    api: Api, worker: Worker, receiver
) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice"], category=CATEGORY)
    receiver.status = 500

    await drain(worker)
    [failed] = await log(api, tenant, channel="WEBHOOK")
    receiver.status = 200
    retried = await api.data(RETRY, {"id": failed["id"]}, token=tenant.api_key)
    await drain(worker)
    [sent] = await log(api, tenant, channel="WEBHOOK")

    assert (failed["status"], failed["attemptCount"], failed["lastError"]) == (
        "FAILED",
        3,
        "HTTP 500",
    )
    assert retried["retryDelivery"]["status"] == "QUEUED"
    assert sent["status"] == "SENT" and len(receiver.requests) == 4


async def test_a_client_error_is_not_retried(api: Api, worker: Worker, receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice"], category=CATEGORY)
    receiver.status = 400

    await drain(worker)

    [row] = await log(api, tenant, channel="WEBHOOK")
    assert (row["status"], row["attemptCount"]) == ("FAILED", 1)


async def test_only_a_failed_delivery_can_be_retried(api: Api, worker: Worker, receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice"], category=CATEGORY)
    await drain(worker)
    [row] = await log(api, tenant, channel="WEBHOOK")

    error = await api.error(RETRY, {"id": row["id"]}, token=tenant.api_key)

    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def email_tenant(api: Api, port: int, **credentials: str) -> TenantAccess:
    tenant = await make_tenant(free_categories=False)
    config = {
        "host": "127.0.0.1",
        "port": port,
        "from": "alerts@example.com",
        "tls": False,
        **credentials,
    }
    await api.data(
        UPDATE_CHANNEL,
        {"channel": "EMAIL", "input": {"enabled": True, "config": config}},
        token=tenant.api_key,
    )
    return tenant


async def test_an_email_reaches_the_smtp_server(api: Api, worker: Worker, smtp) -> None:
    mailbox, port = smtp
    tenant = await email_tenant(api, port)
    await make_user(api, tenant, "alice", email="alice@example.com")

    await publish(api, tenant, ["alice"], category=CATEGORY, title="Calls today", body="42 calls")
    await drain(worker)

    received = mailbox.received()
    assert received["To"] == "alice@example.com" and received["Subject"] == "Calls today"
    assert "42 calls" in received.get_body(("plain",)).get_content()


async def test_a_flapping_category_emails_once_a_day(api: Api, worker: Worker, smtp) -> None:
    mailbox, port = smtp
    tenant = await email_tenant(api, port)
    await make_user(api, tenant, "alice", email="alice@example.com")

    await publish(api, tenant, ["alice"], category="billing.low_balance")
    await publish(api, tenant, ["alice"], category="billing.low_balance")
    await drain(worker)

    emails = await log(api, tenant, channel="EMAIL")
    assert sorted(r["status"] for r in emails) == ["SENT", "SUPPRESSED"]
    [held] = [r for r in emails if r["status"] == "SUPPRESSED"]
    assert "rate limited" in held["lastError"]
    assert len(mailbox.envelopes) == 1


async def test_secrets_are_sealed_and_never_returned(api: Api, smtp, caplog) -> None:
    _, port = smtp
    tenant = await email_tenant(api, port, username="mailer", password="smtp-s3cret")

    listed = await api.data("{ channels { channel config } }", token=tenant.api_key)
    stored = await ChannelConfig.get(tenant_id=tenant.tenant_id, channel="EMAIL")
    again = await api.data(
        UPDATE_CHANNEL,
        {
            "channel": "EMAIL",
            "input": {
                "config": {
                    "host": "127.0.0.1",
                    "port": port,
                    "from": "alerts@example.com",
                    "tls": False,
                    "username": "mailer",
                    "password": "********",
                }
            },
        },
        token=tenant.api_key,
    )
    stored_again = await ChannelConfig.get(tenant_id=tenant.tenant_id, channel="EMAIL")

    [email] = [c for c in listed["channels"] if c["channel"] == "EMAIL"]
    assert email["config"]["password"] == "********"
    assert "smtp-s3cret" not in stored.config and "smtp-s3cret" not in str(listed)
    assert again["updateChannel"]["config"]["password"] == "********"
    assert stored_again.config != stored.config and "smtp-s3cret" not in stored_again.config
    assert all("smtp-s3cret" not in r.getMessage() for r in caplog.records)


async def test_forced_and_requested_channels_shape_a_test_notification(
    api: Api, worker: Worker, receiver
) -> None:
    tenant = await webhook_tenant(api, receiver)
    owner = await make_user(api, tenant, "o", role="OWNER")
    send = """
    mutation($input: TestNotificationInput) { sendTestNotification(input: $input) { jobId } }
    """

    forced = await api.data(
        send,
        {"input": {"category": "agent.published", "forceChannels": ["WEBHOOK"]}},
        token=owner.token,
    )
    narrowed = await api.data(
        send, {"input": {"category": CATEGORY, "requestedChannels": ["IN_APP"]}}, token=owner.token
    )
    await drain(worker)

    forced_rows = await log(api, tenant, jobId=forced["sendTestNotification"]["jobId"])
    narrowed_rows = await log(api, tenant, jobId=narrowed["sendTestNotification"]["jobId"])
    assert {(r["channel"], r["status"]) for r in forced_rows} == {
        ("IN_APP", "SENT"),
        ("WEBHOOK", "SENT"),
    }
    assert {r["channel"] for r in narrowed_rows} == {"IN_APP"}
    assert len(receiver.requests) == 1


async def test_dispatcher_status_reports_depth_and_readiness(api: Api, receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice", "bob"], category=CATEGORY)

    status = await api.data(
        "{ dispatcherStatus { queueDepth oldestQueuedSeconds channels { channel ready reason } } }",
        token=tenant.api_key,
    )

    report = status["dispatcherStatus"]
    assert report["queueDepth"] == 2 and report["oldestQueuedSeconds"] >= 0
    channels = {c["channel"]: c for c in report["channels"]}
    assert channels["WEBHOOK"]["ready"] is True and channels["IN_APP"]["ready"] is True
    assert channels["EMAIL"] == {
        "channel": "EMAIL",
        "ready": False,
        "reason": "SMTP_NOT_CONFIGURED",
    }


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_workers_never_send_a_row_twice(api: Api, settings: Settings, receiver) -> None:
    """One `belfry worker` process and one worker here, on the same PostgreSQL queue. (SQLite
    takes one writing process: the embedded default runs its worker in the server.)"""
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, [f"user-{i}" for i in range(1000)], category=CATEGORY)
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": settings.db_url,
        "BELFRY_ALLOW_PRIVATE_TARGETS": "true",
        "BELFRY_DELIVERY_POLL_SECONDS": "0.05",
    }
    other = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)
    try:
        async with httpx.AsyncClient(trust_env=False) as http:
            here = Worker(settings, http)
            for _ in range(400):
                await here.run_once()
                if len(receiver.requests) >= 1000 and not await queued(tenant):
                    break
                await asyncio.sleep(0.01)
    finally:
        other.terminate()
        other.wait(timeout=10)

    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 1000 and len(set(ids)) == 1000
    sent = await api.data(
        LOG, {"filter": {"channel": "WEBHOOK", "status": "SENT"}}, token=tenant.api_key
    )
    assert sent["deliveries"]["totalCount"] == 1000


async def queued(tenant: TenantAccess) -> int:
    return await Delivery.filter(
        tenant_id=tenant.tenant_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    ).count()


async def test_the_log_can_be_cleaned(api: Api, worker: Worker, receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice", "bob"], category=CATEGORY)
    receiver.status = 400
    await drain(worker)
    failed = await log(api, tenant, status="FAILED")

    one = await api.data(
        "mutation($id: ID!) { deleteDelivery(id: $id) }",
        {"id": failed[0]["id"]},
        token=tenant.api_key,
    )
    bulk = await api.data(
        "mutation { deleteDeliveries(filter: {status: FAILED}) { deleted } }", token=tenant.api_key
    )
    refused = await api.error(
        "mutation { deleteDeliveries(filter: {}) { deleted } }", token=tenant.api_key
    )

    assert one["deleteDelivery"] is True and bulk["deleteDeliveries"]["deleted"] == 1
    assert await log(api, tenant, status="FAILED") == []
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"


async def test_private_targets_are_refused_unless_allowed(
    api: Api, settings: Settings, receiver
) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice"], category=CATEGORY)

    async with httpx.AsyncClient(trust_env=False) as http:
        strict = settings.model_copy(update={"allow_private_targets": False})
        await drain(Worker(strict, http))

    [row] = await log(api, tenant, channel="WEBHOOK")
    assert row["status"] == "FAILED" and "target refused" in row["lastError"]
    assert receiver.requests == []


async def test_switching_in_app_off_keeps_it_out_of_the_inbox(api: Api, receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    alice = await make_user(api, tenant, "alice")
    await api.data(
        "mutation($input: PreferenceInput!) { updateMyPreference(input: $input) { category } }",
        {"input": {"category": CATEGORY, "inApp": False}},
        token=alice.token,
    )

    await publish(api, tenant, ["alice"], category=CATEGORY)

    inbox = await api.data("{ notifications { totalCount } unreadCount }", token=alice.token)
    assert inbox == {"notifications": {"totalCount": 0}, "unreadCount": 0}
    rows = {r["channel"]: r for r in await log(api, tenant)}
    assert rows["IN_APP"]["status"] == "SUPPRESSED" and rows["WEBHOOK"]["status"] == "QUEUED"


async def test_test_channel_sends_a_real_message(api: Api, receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    test = "mutation { testChannel(channel: WEBHOOK) }"

    ok = await api.data(test, token=tenant.api_key)
    receiver.status = 500
    failed = await api.error(test, token=tenant.api_key)

    assert ok["testChannel"] is True and len(receiver.requests) == 2
    assert receiver.requests[0].json()["data"]["title"] == "Belfry test message"
    assert failed["extensions"]["code"] == "BAD_USER_INPUT" and "HTTP 500" in failed["message"]


async def test_the_log_filters_by_category_notification_and_time(api: Api, receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    [first] = (await publish(api, tenant, ["alice"], category=CATEGORY))["notificationIds"]
    await publish(api, tenant, ["alice"], category="agent.published")
    newest = (await log(api, tenant))[0]

    by_category = await log(api, tenant, category="agent.published")
    by_notification = await log(api, tenant, notificationId=first)
    before_newest = await log(api, tenant, before=newest["createdAt"])

    assert [r["category"] for r in by_category] == ["agent.published"]  # in-app only: no webhook
    assert {r["channel"] for r in by_notification} == {"IN_APP", "WEBHOOK"}
    assert {r["category"] for r in before_newest} == {CATEGORY}


async def test_webhook_headers_are_sealed_and_redacted_but_still_sent(
    api: Api, worker: Worker, receiver
) -> None:
    tenant = await webhook_tenant(api, receiver, headers={"X-Secret": "hdr-s3cret"})
    await publish(api, tenant, ["alice"], category=CATEGORY)

    listed = await api.data("{ channels { channel config } }", token=tenant.api_key)
    stored = await ChannelConfig.get(tenant_id=tenant.tenant_id, channel="WEBHOOK")
    await drain(worker)

    [webhook] = [c for c in listed["channels"] if c["channel"] == "WEBHOOK"]
    assert webhook["config"]["headers"] == "********"
    assert "hdr-s3cret" not in stored.config
    assert receiver.only.headers["x-secret"] == "hdr-s3cret"


async def test_an_email_test_from_an_api_key_goes_to_the_sender(api: Api, smtp) -> None:
    mailbox, port = smtp
    tenant = await email_tenant(api, port)

    sent = await api.data("mutation { testChannel(channel: EMAIL) }", token=tenant.api_key)

    assert sent["testChannel"] is True
    assert mailbox.received()["To"] == "alerts@example.com"


SEND_TEST = """
mutation($input: TestNotificationInput) { sendTestNotification(input: $input) { jobId } }
"""


async def test_forcing_sends_through_a_configured_channel_that_is_not_enabled(
    api: Api, worker: Worker, receiver: Receiver
) -> None:
    # given an SMS channel configured but switched off, and an owner with a phone
    tenant = await make_tenant(free_categories=False)
    config = {"accountSid": "AC1", "authToken": "tok", "from": "+15550199"}
    await api.data(
        UPDATE_CHANNEL,
        {
            "channel": "SMS",
            "input": {"enabled": False, "config": {**config, "apiBaseUrl": receiver.url}},
        },
        token=tenant.api_key,
    )
    owner = await make_user(api, tenant, "o", role="OWNER", phone="+15550100")

    # when the owner forces a test through SMS
    sent = await api.data(SEND_TEST, {"input": {"forceChannels": ["SMS"]}}, token=owner.token)
    await drain(worker)

    # then the text goes out and the log says so
    rows = await log(api, tenant, jobId=sent["sendTestNotification"]["jobId"], channel="SMS")
    assert [r["status"] for r in rows] == ["SENT"]
    assert receiver.only.form()["To"] == "+15550100"


async def test_forcing_an_unconfigured_channel_says_why(api: Api) -> None:
    tenant = await make_tenant()
    owner = await make_user(api, tenant, "o", role="OWNER")

    error = await api.error(
        SEND_TEST, {"input": {"forceChannels": ["TELEGRAM"]}}, token=owner.token
    )

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "TELEGRAM_NOT_CONFIGURED" in error["message"]


async def test_a_channel_not_requested_is_not_logged(
    api: Api, worker: Worker, receiver: Receiver
) -> None:
    # given a tenant with a webhook
    tenant = await webhook_tenant(api, receiver)
    owner = await make_user(api, tenant, "o", role="OWNER")

    # when a test asks for the webhook alone
    sent = await api.data(
        SEND_TEST,
        {"input": {"category": CATEGORY, "requestedChannels": ["WEBHOOK"]}},
        token=owner.token,
    )

    # then the log holds the webhook only: in-app was not asked for, not switched off
    rows = await log(api, tenant, jobId=sent["sendTestNotification"]["jobId"])
    assert [(r["channel"], r["status"]) for r in rows] == [("WEBHOOK", "QUEUED")]


DELETE_MANY = """
mutation($filter: DeliveryDeleteFilter!) { deleteDeliveries(filter: $filter) { deleted skipped } }
"""


async def test_a_bulk_delete_leaves_deliveries_in_flight(
    api: Api, settings: Settings, receiver: Receiver
) -> None:
    # given a rule's webhook delivery that a worker is sending, and an in-app one already done
    tenant = await webhook_tenant(api, receiver)
    rule = await api.data(
        "mutation($input: RuleInput!) { createRule(input: $input) { id } }",
        {
            "input": {
                "name": "Calls",
                "events": [CATEGORY],
                "actions": [{"channel": "WEBHOOK", "recipients": ["#ops"]}],
            }
        },
        token=tenant.api_key,
    )
    await api.data(
        'mutation { publishEvent(input: {type: "call.daily_summary"}) { count } }',
        token=tenant.api_key,
    )
    [sending] = await claim(10, lease=timedelta(minutes=1))

    # when the rule's deliveries, and everything before tomorrow, are deleted
    by_rule = await api.data(
        DELETE_MANY, {"filter": {"ruleId": rule["createRule"]["id"]}}, token=tenant.api_key
    )
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    by_date = await api.data(DELETE_MANY, {"filter": {"before": tomorrow}}, token=tenant.api_key)

    # then the row being sent is still there, and both calls said they left it
    assert by_rule["deleteDeliveries"] == {"deleted": 0, "skipped": 1}
    assert by_date["deleteDeliveries"] == {"deleted": 0, "skipped": 1}
    assert await Delivery.exists(id=sending.id, status=DeliveryStatus.SENDING)


async def test_one_delivery_in_flight_cannot_be_deleted(api: Api, receiver: Receiver) -> None:
    tenant = await webhook_tenant(api, receiver)
    await publish(api, tenant, ["alice"], category=CATEGORY)
    [queued] = await log(api, tenant, status="QUEUED")

    error = await api.error(
        "mutation($id: ID!) { deleteDelivery(id: $id) }", {"id": queued["id"]}, token=tenant.api_key
    )

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await log(api, tenant, status="QUEUED") == [queued]


@pytest.mark.parametrize("field", ["forceChannels", "requestedChannels"])
async def test_a_member_cannot_test_a_shared_channel(
    api: Api, receiver: Receiver, field: str
) -> None:
    tenant = await webhook_tenant(api, receiver)
    member = await make_user(api, tenant, "m")

    error = await api.error(SEND_TEST, {"input": {field: ["WEBHOOK"]}}, token=member.token)

    assert error["extensions"]["code"] == "FORBIDDEN" and "WEBHOOK" in error["message"]
    assert await log(api, tenant) == []


async def test_a_members_test_reaches_only_their_own_channels(
    api: Api, worker: Worker, receiver: Receiver
) -> None:
    # given a tenant whose webhook takes this category
    tenant = await webhook_tenant(api, receiver)
    member = await make_user(api, tenant, "m")

    # when a member sends a test of it
    await api.data(SEND_TEST, {"input": {"category": CATEGORY}}, token=member.token)
    await drain(worker)

    # then their inbox has it and the shared webhook heard nothing
    assert {r["channel"] for r in await log(api, tenant)} == {"IN_APP"}
    assert receiver.requests == []


async def test_test_sends_are_rate_limited(api: Api) -> None:
    tenant = await make_tenant()
    member = await make_user(api, tenant, "m")
    for _ in range(5):
        await api.data(SEND_TEST, token=member.token)

    error = await api.error(SEND_TEST, token=member.token)

    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfterSeconds"] > 0


async def test_a_delivery_whose_channel_secret_cannot_be_read_waits_for_the_key(
    api: Api, settings: Settings, receiver
) -> None:
    # given a webhook sealed with a key this worker has not been given yet (mid-rotation)
    tenant = await webhook_tenant(api, receiver)
    await store_webhook(tenant.tenant_id, SecretBox(["next"]), url=f"{receiver.url}/hook")
    await publish(api, tenant, ["alice"], category=CATEGORY)

    # when a worker without that key runs
    async with httpx.AsyncClient(trust_env=False) as http:
        await Worker(settings, http).run_once()
    [waiting] = await log(api, tenant, channel="WEBHOOK")

    # then nothing is sent and the delivery waits, saying why; with the key, it goes
    assert (waiting["status"], waiting["lastError"]) == ("QUEUED", "SECRET_UNREADABLE")
    assert receiver.requests == []
    with_key = settings.model_copy(update={"secret_key": ["next", *settings.secret_key]})
    async with httpx.AsyncClient(trust_env=False) as http:
        await drain(Worker(with_key, http))
    [sent] = await log(api, tenant, channel="WEBHOOK")
    assert (sent["status"], sent["attemptCount"]) == ("SENT", 2)
    assert len(receiver.requests) == 1
