"""`belfry demo`'s page, token endpoint and sample publisher: only in demo mode, never in
production, and the inbox element on the page live in two tabs of a real Chromium."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app import demo
from app.main import create_app
from app.settings import Settings
from tests.conftest import serving
from tests.helpers import Api
from tests.node import ARTIFACTS, require_chromium, run_node

VIEWER = "{ viewer { externalId } }"
NOTIFICATIONS = "{ notifications { totalCount unreadCount edges { node { title category } } } }"
CATEGORIES = "{ eventCategories { categories { key } } }"


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"demo": True})


@pytest.fixture
async def demo_api(api: Api, demo_settings: Settings) -> AsyncIterator[Api]:
    """An API client for an app in demo mode (on the database `api` has set up)."""
    transport = httpx.ASGITransport(app=create_app(demo_settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://belfry.test") as client:
        yield Api(client)


async def demo_token(api: Api) -> str:
    response = await api.client.post("/demo/token")
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def send_sample(api: Api) -> dict[str, Any]:
    response = await api.client.post("/demo/publish")
    assert response.status_code == 200, response.text
    sent: dict[str, Any] = response.json()
    return sent


async def test_demo_routes_are_absent_without_demo_mode(api: Api) -> None:
    # Given an app not in demo mode, then none of the demo's routes exist
    assert (await api.client.get("/demo")).status_code == 404
    assert (await api.client.post("/demo/token")).status_code == 404
    assert (await api.client.post("/demo/publish")).status_code == 404


async def test_the_demo_page_loads_the_inbox_element_from_belfry(demo_api: Api) -> None:
    page = await demo_api.client.get("/demo")
    script = await demo_api.client.get("/static/belfry/belfry.js")

    assert page.status_code == 200 and "<belfry-inbox" in page.text
    assert 'src="static/belfry/belfry.js"' in page.text
    assert script.status_code == 200 and "belfry-inbox" in script.text


async def test_the_token_endpoint_gives_a_token_for_the_demo_user(demo_api: Api) -> None:
    # When the page asks for a token
    token = await demo_token(demo_api)

    # Then it signs in as the demo user
    viewer = await demo_api.data(VIEWER, token=token)
    assert viewer == {"viewer": {"externalId": demo.DEMO_USER}}


async def test_the_publish_endpoint_notifies_the_demo_user(demo_api: Api) -> None:
    # Given the demo user's token
    token = await demo_token(demo_api)

    # When a sample notification is sent
    sent = await send_sample(demo_api)

    # Then it is in their inbox, unread, under a category of the tenant's catalogue
    inbox = (await demo_api.data(NOTIFICATIONS, token=token))["notifications"]
    assert inbox["unreadCount"] == 1
    assert inbox["edges"][0]["node"] == {"title": sent["title"], "category": sent["category"]}
    groups = (await demo_api.data(CATEGORIES, token=token))["eventCategories"]
    assert sent["category"] in {c["key"] for group in groups for c in group["categories"]}


def test_demo_mode_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(environment="production", secret_key="a real secret", demo=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_two_tabs_of_the_demo_stay_in_step_in_chromium(demo_settings: Settings) -> None:
    # Given the demo served, Chromium that may reach nothing else, and a dozen notifications
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    async with serving(demo_settings) as live, httpx.AsyncClient(base_url=live.http_url) as c:
        for _ in range(12):
            await send_sample(Api(c))
        api_key = (await demo.prepare_demo(demo_settings))["apiKey"]

        # When /demo is opened in two tabs, scrolled, published to (by its button, and through
        # the API to a team), and marked read
        page = f"{live.http_url}/demo"
        seen = await run_node("demo.mjs", page, "12", "5", str(ARTIFACTS), api_key)

    # Then nothing went beyond the server, the list paged in as it scrolled, and each
    # change showed in both tabs
    assert seen["foreign"] == [] and seen["failed"] == [] and seen["errors"] == []
    assert seen["firstPage"] < 12 and seen["afterScrolling"] == 12
    assert seen["newestInA"] == seen["newestInB"] == seen["sent"]
    assert seen["publishedInA"] == seen["published"]
    assert seen["publishedMeta"].startswith(f"system.maintenance · via {seen['team']} · ")
    assert "via" not in seen["olderMeta"]  # named directly, through no team
    assert seen["badgesAfterMarkRead"] == ["13", "13"]
    assert seen["badgesAfterMarkAll"] == ["", ""]
