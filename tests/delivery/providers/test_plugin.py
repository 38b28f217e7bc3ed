"""A channel is one plugin: a provider from the test suite alone (tests/delivery/pigeon.py),
installed as a package installs it, works throughout a real `belfry serve` with no file of
Belfry's changed."""

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.conftest import PATIENCE
from tests.delivery.helpers import Receiver, install_package
from tests.helpers import Api, TenantAccess, UserAccess, make_user, publish
from tests.processes import server_process

REPOSITORY = Path(__file__).parents[3]
CATEGORY = "call.first_call"  # in the seeded catalogue: in-app and email by default
CONFIGURE = """
mutation($input: ChannelConfigInput!) {
  updateChannel(channel: PIGEON, input: $input) { channel enabled config ready reason }
}
"""
SWITCH = """
mutation($input: PreferenceInput!) {
  OPERATION(input: $input) { channels { channel enabled } }
}
"""
QUIET = "mutation($input: QuietHoursInput!) { updateMyQuietHours(input: $input) { enabled } }"
EFFECTIVE = """
{ preferences(scope: EFFECTIVE) {
    category channels { channel enabled } sources { channel source } } }
"""
DELIVERIES = """
query($id: ID!) {
  deliveries(filter: {notificationId: $id, channel: PIGEON}) { edges { node { status } } }
}
"""


def pigeon_package(site: Path) -> dict[str, str]:
    """The environment of a process that has the pigeon package installed."""
    install_package(site, "belfry-pigeons", {"PIGEON": "tests.delivery.pigeon:PigeonProvider"})
    path = os.pathsep.join(filter(None, [str(site), str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, "BELFRY_ALLOW_PRIVATE_TARGETS": "true"}


async def switch(api: Api, token: str, operation: str, enabled: bool) -> None:
    change = {"category": CATEGORY, "channels": [{"channel": "PIGEON", "enabled": enabled}]}
    await api.data(SWITCH.replace("OPERATION", operation), {"input": change}, token=token)


async def quiet_now(api: Api, user: UserAccess) -> None:
    """Quiet hours from an hour ago to an hour from now, every day."""
    now = datetime.now(UTC)
    hours = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=1)).strftime("%H:%M"),
        "timezone": "UTC",
    }
    await api.data(QUIET, {"input": hours}, token=user.token)


async def pigeon_statuses(api: Api, tenant: TenantAccess, user: str) -> list[str]:
    """The statuses of the pigeons sent for a notification published to `user` alone."""
    [notification] = (await publish(api, tenant, [user], category=CATEGORY))["notificationIds"]
    deadline = time.monotonic() + PATIENCE
    while True:
        edges = (await api.data(DELIVERIES, {"id": notification}, token=tenant.api_key))[
            "deliveries"
        ]["edges"]
        statuses = [edge["node"]["status"] for edge in edges]
        in_flight = {"QUEUED", "SENDING"} & set(statuses)
        if not in_flight or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.05)


async def test_an_installed_channel_is_configured_routed_held_switched_and_delivered(
    tmp_path: Path, receiver: Receiver
) -> None:
    # Given a server with the pigeon package installed, and three users: one in quiet hours
    # and one who switched pigeons off for themselves
    async with (
        server_process(tmp_path, pigeon_package(tmp_path / "site")) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        api, tenant = Api(client), server.tenant
        _, bea, cid = [await make_user(api, tenant, name) for name in ("ann", "bea", "cid")]
        await quiet_now(api, bea)
        await switch(api, cid.token, "updateMyPreference", False)

        # When the tenant configures the channel, switches it on for the category, and
        # publishes to each user
        config = {"loft": f"{receiver.url}/loft", "ring": "blue-7"}
        configured = await api.data(
            CONFIGURE, {"input": {"enabled": True, "config": config}}, token=tenant.api_key
        )
        await switch(api, tenant.api_key, "updateTenantPreference", True)
        sent = {user: await pigeon_statuses(api, tenant, user) for user in ("ann", "bea", "cid")}
        effective = (await api.data(EFFECTIVE, token=cid.token))["preferences"]

    # Then the channel took its config (its secret redacted), a pigeon landed for ann, bea's
    # waits for her quiet hours to end, and cid got none, as his own preference says
    assert configured["updateChannel"] == {
        "channel": "PIGEON",
        "enabled": True,
        "config": {"loft": config["loft"], "ring": "********"},
        "ready": True,
        "reason": None,
    }
    assert sent == {"ann": ["SENT"], "bea": ["HELD"], "cid": []}
    landed = receiver.only
    assert (landed.path, landed.headers["x-ring"]) == ("/loft", "blue-7")
    assert landed.json() == {"title": "Your balance is getting low", "for": "ann"}
    [choice] = [entry for entry in effective if entry["category"] == CATEGORY]
    assert {"channel": "PIGEON", "enabled": False} in choice["channels"]
    assert {"channel": "PIGEON", "source": "USER"} in choice["sources"]
