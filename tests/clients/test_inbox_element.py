"""The <belfry-inbox> element (clients/js/src/inbox-element.js) in Chromium, against a real
server: what it shows whatever the server sends.

The element's behaviour does not depend on the database: these run on SQLite only."""

import json
from datetime import UTC, datetime

import pytest

from app.models import Notification, User
from tests.conftest import LiveServer
from tests.helpers import Api, make_tenant, make_user
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
        title: {"tag": "div", "href": None} for title in UNSAFE
    }
    assert sorted(seen["hrefs"]) == sorted(SAFE.values())
