"""deliveryStatus through a real websocket: each change, to whom it belongs."""

import httpx
import pytest

from app.delivery.worker import Worker
from app.settings import Settings
from tests.delivery.test_worker import CATEGORY, webhook_tenant
from tests.graphql.test_subscriptions import subscribed
from tests.helpers import make_user, publish

STATUS = """
subscription($notificationId: ID, $channel: Channel) {
  deliveryStatus(notificationId: $notificationId, channel: $channel) {
    id channel status attemptCount notificationId
  }
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_private_targets": True})


async def test_members_see_their_own_deliveries_change_and_admins_see_all(
    server, live_api, settings, receiver
) -> None:
    tenant = await webhook_tenant(live_api, receiver)
    alice = await make_user(live_api, tenant, "alice")
    bob = await make_user(live_api, tenant, "bob")
    admin = await make_user(live_api, tenant, "adm", role="ADMIN")
    webhook_only = {"channel": "WEBHOOK"}
    async with (
        subscribed(server, alice.token, STATUS, webhook_only) as (mine, mine_op),
        subscribed(server, bob.token, STATUS, webhook_only) as (other, _),
        subscribed(server, admin.token, STATUS, webhook_only) as (everything, all_op),
    ):
        [nid] = (await publish(live_api, tenant, ["alice"], category=CATEGORY))["notificationIds"]
        queued = (await mine.next(mine_op))["deliveryStatus"]
        async with httpx.AsyncClient(trust_env=False) as http:
            await Worker(settings, http).run_once()
        sent = (await mine.next(mine_op))["deliveryStatus"]
        seen_by_admin = [(await everything.next(all_op))["deliveryStatus"]["status"] for _ in "12"]

        assert (queued["status"], sent["status"], sent["attemptCount"]) == ("QUEUED", "SENT", 1)
        assert queued["id"] == sent["id"] and sent["notificationId"] == nid
        assert seen_by_admin == ["QUEUED", "SENT"]
        assert await other.nothing_within(0.3)


async def test_naming_a_notification_starts_with_its_deliveries(server, live_api, receiver) -> None:
    tenant = await webhook_tenant(live_api, receiver)
    alice = await make_user(live_api, tenant, "alice")
    [nid] = (await publish(live_api, tenant, ["alice"], category=CATEGORY))["notificationIds"]

    async with subscribed(server, alice.token, STATUS, {"notificationId": nid}) as (socket, op):
        first = {(await socket.next(op))["deliveryStatus"]["channel"] for _ in "12"}

    assert first == {"IN_APP", "WEBHOOK"}
