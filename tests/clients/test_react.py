"""@belfry/react (clients/react): a small application built with esbuild against the real
React 19 and the package's built module, in Chromium against a real server: its hooks follow
the inbox live, act on it through the API, and <Inbox/> renders the element.

The hooks' behaviour does not depend on the database: these run on SQLite only."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.helpers import Api, TenantAccess, UserAccess, make_tenant, make_user, publish
from tests.node import REACT, Message, NodeProcess, node_process, require_chromium

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TOP_UP = {"id": "top-up", "label": "Top up", "url": "/billing", "primary": True}
STATE = "{ isArchived snoozedUntil interactedAt isRead }"


@pytest.fixture
async def tenant(server: LiveServer) -> TenantAccess:
    return await make_tenant()


@pytest.fixture
async def user(live_api: Api, tenant: TenantAccess) -> UserAccess:
    return await make_user(live_api, tenant)


@asynccontextmanager
async def react_app(server: LiveServer, user: UserAccess) -> AsyncIterator[NodeProcess]:
    """The test application in Chromium, its hooks following the user's inbox."""
    require_chromium()
    async with node_process("hooks.mjs", server.http_url, user.token, package=REACT) as app:
        await app.expect(lambda m: m["event"] == "ready", timeout=60)
        yield app


async def step(app: NodeProcess, **command: Any) -> Message:
    """Sends one command and returns what the page showed after it."""
    await app.send(command)
    return await app.expect(lambda m: m["event"] == "seen", timeout=60)


async def state_of(api: Api, user: UserAccess, notification_id: str) -> dict[str, Any]:
    query = f'{{ notification(id: "{notification_id}") {STATE} }}'
    data = await api.data(query, token=user.token)
    return dict(data["notification"])


async def test_the_hooks_show_notifications_arriving_live_with_their_counts(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given the application following the user's empty inbox
    async with react_app(server, user) as app:
        # When two notifications are published to them
        await publish(live_api, tenant, [user.external_id], title="Paid")
        await publish(live_api, tenant, [user.external_id], title="Shipped")
        seen = await step(app, cmd="await", shows=["Paid", "Shipped"])

    # Then useInbox lists them newest first, the count hooks count them, and
    # useNotificationEvents was called with each as it arrived
    assert seen["titles"] == ["Shipped", "Paid"]
    assert (seen["unread"], seen["unseen"], seen["status"]) == (2, 2, "connected")
    assert seen["arrivals"] == ["Paid", "Shipped"]
    assert seen["errors"] == []


async def test_archive_snooze_and_act_through_the_hooks_change_the_notifications(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given the application showing two notifications, one with a "Top up" action
    paid = await publish(live_api, tenant, [user.external_id], title="Paid", actions=[TOP_UP])
    later = await publish(live_api, tenant, [user.external_id], title="Later")
    [paid_id], [later_id] = paid["notificationIds"], later["notificationIds"]
    async with react_app(server, user) as app:
        await step(app, cmd="await", shows=["Paid", "Later"])

        # When the action is clicked, then it is recorded, and act resolves with it
        await step(app, cmd="click", name="Top up")
        acted = await step(app, cmd="await", acted=1)
        assert acted["acted"] == [TOP_UP]
        assert (await state_of(live_api, user, paid_id))["interactedAt"] is not None

        # When one is archived and the other snoozed, then both leave the list and the count
        await step(app, cmd="click", name="Archive Paid")
        await step(app, cmd="click", name="Snooze Later")
        seen = await step(app, cmd="await", hides=["Paid", "Later"], unread=0)
        assert seen["titles"] == []
        assert (await state_of(live_api, user, paid_id))["isArchived"] is True
        assert (await state_of(live_api, user, later_id))["snoozedUntil"] is not None

        # And the archive and the snoozed views show each
        await step(app, cmd="click", name="Show the archive")
        archive = await step(app, cmd="await", view="archive", shows=["Paid"])
        await step(app, cmd="click", name="Show the snoozed")
        snoozed = await step(app, cmd="await", view="snoozed", shows=["Later"])
        assert (archive["titles"], snoozed["titles"]) == (["Paid"], ["Later"])
        assert snoozed["errors"] == []


async def test_the_inbox_component_renders_the_element_and_calls_back(
    server: LiveServer, live_api: Api, tenant: TenantAccess, user: UserAccess
) -> None:
    # Given the application, whose <Inbox/> signs in through the provider's getToken
    async with react_app(server, user) as app:
        # When a notification is published
        await publish(live_api, tenant, [user.external_id], title="Paid")
        seen = await step(app, cmd="await", elementShows=["Paid"])

    # Then the element shows it, and its events reached the component's callbacks
    assert seen["elementTitles"] == ["Paid"]
    assert "connected" in seen["inboxStatus"]
    assert seen["inboxUnread"][-1] == 1
    assert seen["inboxArrivals"] == ["Paid"]
