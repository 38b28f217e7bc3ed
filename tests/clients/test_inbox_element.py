"""The <belfry-inbox> element (clients/js/src/inbox-element.js) in Chromium, against a real
server: what it shows whatever the server sends.

The element's behaviour does not depend on the database: these run on SQLite only."""

import json
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.models import Notification, User
from app.settings import Settings
from tests.conftest import LiveServer, free_port, serving
from tests.helpers import Api, TenantAccess, UserAccess, make_tenant, make_user, publish
from tests.node import require_chromium, run_node

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

UNSAFE = {
    "Runs script": "javascript:alert(document.domain)",
    "Runs script after a space": " javascript:alert('space')",
    "Runs script around a tab": "java\tscript:alert('tab')",
    "Opens data": "data:text/html,<script>alert('data')</script>",
    "Leaves for another site": "//evil.example/x",
    "Leaves through a backslash": "/\\evil.example/x",
}
SAFE = {"Opens billing": "/billing", "Opens the docs": "https://docs.example/start"}


async def test_a_stored_unsafe_link_is_never_an_href_and_clicking_it_runs_nothing(
    server: LiveServer, live_api: Api
) -> None:
    # Given a user whose inbox holds, written straight into the database past every check of
    # the API, notifications linking to script, data and other sites, and two safe ones
    require_chromium()
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant, "alice")
    user = await User.get(tenant_id=tenant.tenant_id, external_id="alice")
    for title, link in {**UNSAFE, **SAFE}.items():
        await Notification.create(
            tenant_id=tenant.tenant_id,
            recipient_id=user.id,
            category="billing.low_balance",
            title=title,
            link=link,
            created_at=datetime.now(UTC),
        )

    # When <belfry-inbox> shows them in Chromium and each unsafe title is clicked
    seen = await run_node(
        "unsafe-links.mjs",
        server.http_url,
        alice.token,
        json.dumps({**UNSAFE, **SAFE}),
        json.dumps(list(UNSAFE)),
    )

    # Then no script ran but the page's own, nothing left the origin or the page, the unsafe
    # titles are plain text, and the only hrefs are the safe links
    assert seen["dialogs"] == ["control"]
    assert seen["foreign"] == [] and seen["errors"] == []
    assert seen["url"] == f"{server.http_url}/healthz"
    assert {title: seen["titles"][title] for title in UNSAFE} == {
        title: {"tag": "span", "href": None} for title in UNSAFE
    }
    assert sorted(seen["hrefs"]) == sorted(SAFE.values())


TEAM = 'mutation { upsertTeam(input: {key: "ops", name: "Operations"}) { key } }'
TO_TEAM = (
    "mutation($input: PublishNotificationInput!) { publishNotification(input: $input) { count } }"
)
MEMBERS = 'mutation($ids: [String!]!) { setTeamMembers(key: "ops", externalIds: $ids) { key } }'
TITLES = {
    "urgent": "Balance below zero",
    "high": "Card expires soon",
    "billing": "Invoice 42",
    "plain": "Welcome aboard",
    "collapsed": "Missed call",
    "team": "Deploy finished",
}


async def inbox_of_every_kind(api: Api, tenant: TenantAccess, user: UserAccess) -> None:
    """An URGENT notification with two buttons, a HIGH one, a tagged one, a plain one, one
    published three times under a collapse key, and one that came through a team."""
    top_up = {"id": "top-up", "label": "Top up", "url": "/billing?from=inbox", "primary": True}
    later = {"id": "later", "label": "Remind me later"}
    to = [user.external_id]
    await publish(api, tenant, to, title=TITLES["plain"], category="system.welcome")
    for _ in range(3):
        await publish(api, tenant, to, title=TITLES["collapsed"], collapseKey="calls")
    await publish(api, tenant, to, title=TITLES["billing"], tags=["billing", "invoices"])
    await publish(api, tenant, to, title=TITLES["high"], priority="HIGH")
    await api.data(TEAM, token=tenant.api_key)
    await api.data(MEMBERS, {"ids": to}, token=tenant.api_key)
    await api.data(
        TO_TEAM,
        {"input": {"teams": ["ops"], "category": "system.deploy", "title": TITLES["team"]}},
        token=tenant.api_key,
    )
    await publish(
        api, tenant, to, title=TITLES["urgent"], priority="URGENT", actions=[top_up, later]
    )


async def test_the_element_shows_and_changes_every_kind_of_notification_in_two_tabs(
    server: LiveServer, live_api: Api
) -> None:
    # Given a user in Tokyo whose inbox holds a notification of every kind
    require_chromium()
    tenant = await make_tenant()
    user = await make_user(live_api, tenant, "kenji", timezone="Asia/Tokyo")
    await inbox_of_every_kind(live_api, tenant, user)

    # When two tabs show the element and it is driven through its buttons
    config = {"token": user.token, "apiKey": tenant.api_key, "user": "kenji", "titles": TITLES}
    seen = await run_node("element-features.mjs", server.http_url, json.dumps(config), timeout=240)

    # Then nothing left the server, and nothing failed in either page
    assert seen["foreign"] == [] and seen["errors"] == [] and seen["ran"] is False

    # And the badge counted the unseen, which opening the popover marked seen, not read
    assert seen["badgeBefore"] == "6" and seen["focusInPopover"]
    assert (seen["unseenAfterOpening"], seen["unreadAfterOpening"]) == (0, 6)

    # And each kind shows what it is, by text, not colour alone
    items = {item["title"]: item for item in seen["items"]}
    assert items[TITLES["urgent"]]["priority"] == "⚠ Urgent"
    assert items[TITLES["high"]]["priority"] == "▲ High"
    assert items[TITLES["plain"]]["priority"] is None
    assert items[TITLES["urgent"]]["actions"] == [
        {"text": "Top up", "name": f"Top up: {TITLES['urgent']}", "primary": True},
        {
            "text": "Remind me later",
            "name": f"Remind me later: {TITLES['urgent']}",
            "primary": False,
        },
    ]
    assert items[TITLES["collapsed"]]["occurrences"] == "3 times"
    assert "\N{MULTIPLICATION SIGN}3" in items[TITLES["collapsed"]]["meta"]
    assert items[TITLES["team"]]["meta"][0].startswith("system.deploy · via Operations · ")
    assert {"billing", "invoices"} <= set(items[TITLES["billing"]]["meta"])
    assert items[TITLES["plain"]]["buttons"] == [
        f"{label}: {TITLES['plain']}" for label in ("Mark read", "Archive", "Snooze", "Delete")
    ]

    # And the tabs filtered by tag, "All" first
    assert seen["tabs"] == ["All", "Billing"] and seen["billingSelected"] == "true"

    # And archiving, unarchiving, snoozing and marking read reached the API
    assert seen["archivedInApi"] is True and seen["archiveView"] == [TITLES["plain"]]
    assert seen["unarchivedInApi"] is False and seen["archiveEmptyNote"] == "Nothing archived"
    snoozed_until = datetime.fromisoformat(seen["snoozedUntil"]).astimezone(ZoneInfo("Asia/Tokyo"))
    tomorrow = datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=1)
    assert (snoozed_until.date(), snoozed_until.hour, snoozed_until.minute) == (tomorrow, 9, 0)
    assert any(part.startswith("Snoozed until ") for part in seen["snoozedMeta"])
    assert seen["unsnoozedInApi"] is None and seen["readInApi"] is True

    # And a new URGENT one was announced assertively, a normal one politely, both told to the
    # page, and shown on the desktop only while the tab was hidden
    assert seen["assertive"] == "Urgent notification: Server on fire"
    assert seen["polite"] == "New notification: Weekly report ready"
    assert seen["arrivals"] == ["Server on fire", "Weekly report ready"]
    assert seen["desktop"] == [{"title": "Server on fire", "body": ""}]
    assert seen["desktopAfterVisible"] == 1

    # And an expiring one left both tabs at its time
    assert seen["expiringShown"] and seen["expiredGone"]

    # And a host's rendering went in as nodes and text, never HTML
    assert seen["hostItems"] >= 5 and seen["hostImages"] == 0
    assert seen["hostText"] == '<img src=x onerror="window.ran = true"> Server on fire'

    # And the primary action was recorded, then followed
    assert seen["acted"] == {"isRead": True, "interacted": True}


async def test_the_element_tells_apart_why_it_cannot_work(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a server that allows a few requests per user in a short window, a user, and a
    # second user whose requests a test spends
    require_chromium()
    caplog.set_level(logging.WARNING)
    limits = {"rate_limit_user": 8, "rate_limit_window_seconds": 4}
    async with (
        serving(settings.model_copy(update=limits)) as live,
        httpx.AsyncClient(base_url=live.http_url) as client,
    ):
        api = Api(client)
        tenant = await make_tenant()
        user = await make_user(api, tenant)
        spent = await make_user(api, tenant)
        port = live.http_url.rsplit(":", 1)[1]
        config = {
            "belfry": live.http_url,
            "other": f"http://localhost:{port}",  # the same server, reached by another name
            "limited": live.http_url,
            "closed": f"http://127.0.0.1:{free_port()}",
            "token": user.token,
            "limitedToken": spent.token,
        }

        # When the element runs on a refused origin, with a token endpoint that refuses, fails
        # or is slow, against a closed port, and over the rate limit
        seen = await run_node("element-states.mjs", json.dumps(config), timeout=240)

    # Then each says what is wrong and why, and nothing else was reached
    assert seen["foreign"] == []
    refused = seen["refusedOrigin"]
    assert refused["problem"] == "refused-origin" and refused["role"] == "alert"
    assert refused["text"][0] == "This page may not connect to notifications."
    assert f"http://localhost:{port}" in refused["text"][1]
    assert "BELFRY_ALLOWED_ORIGINS" in refused["text"][1]
    assert "[object Event]" not in refused["popoverText"]
    assert {"status": "refused", "problem": "refused-origin"}.items() <= refused["statuses"][
        -1
    ].items()
    logged = [r.getMessage() for r in caplog.records if f"localhost:{port}" in r.getMessage()]
    assert logged and all("BELFRY_ALLOWED_ORIGINS" in line for line in logged)

    unauthorized = seen["unauthorized"]
    assert unauthorized["problem"] == "unauthorized"
    assert unauthorized["text"][:2] == [
        "You are not signed in to notifications.",
        "The token endpoint answered 401.",
    ]
    assert unauthorized["statuses"][-1]["status"] == "unauthorized"
    assert seen["tokenRequestsAfterRetry"] == 2  # one at the start, one for the retry

    failing = seen["tokenUnavailable"]
    assert failing["problem"] == "token-unavailable"
    assert failing["text"][1] == "The token endpoint answered 500; trying again."
    assert seen["failingTokenRequests"] >= 2

    assert seen["loading"] == {"note": "Loading…", "hidden": False, "role": "status"}
    assert seen["afterLoading"] == "You're all caught up"

    unreachable = seen["unreachable"]
    assert unreachable["problem"] == "unreachable" and unreachable["role"] == "status"
    closed_host = config["closed"].removeprefix("http://")
    assert unreachable["text"][1] == f"{closed_host} does not answer; trying again."

    limited = seen["rateLimited"]
    assert limited["problem"] == "rate-limited"
    assert limited["text"][0] == "Too many requests."
    assert limited["text"][1].startswith("Trying again in ")
    assert seen["afterRateLimit"] == "You're all caught up"
    for page in ("refusedOrigin", "unauthorized", "tokenUnavailable", "unreachable", "rateLimited"):
        assert seen[page]["errors"] == [], page
