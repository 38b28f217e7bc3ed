"""GraphiQL with no network beyond Belfry: every file its page loads is served by Belfry."""

import base64
import hashlib
import re

from app.http.graphiql import offline, remote_assets
from tests.conftest import LiveServer
from tests.helpers import Api, make_tenant, make_user
from tests.node import ARTIFACTS, require_chromium, run_node

PAGE = """<link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css"
  integrity="sha384-abc" />
<script src="https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js"></script>"""


def test_remote_assets_are_read_with_package_version_path_and_integrity() -> None:
    explorer = remote_assets(PAGE)[1]

    assert remote_assets(PAGE)[0].integrity == "sha384-abc" and explorer.integrity is None
    assert explorer.local_path == "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js"


def test_offline_points_every_asset_at_belfry() -> None:
    page = offline(PAGE)

    assert "unpkg" not in page
    assert 'href="static/graphiql/graphiql@3.8.3/graphiql.min.css"' in page


async def test_the_page_loads_nothing_from_another_host(api: Api) -> None:
    page = (await api.client.get("/graphql", headers={"accept": "text/html"})).text

    addresses = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert addresses and all(
        address.startswith(("static/graphiql/", "data:")) for address in addresses
    ), addresses


async def test_every_asset_is_served_as_the_page_expects(api: Api) -> None:
    page = (await api.client.get("/graphql", headers={"accept": "text/html"})).text
    tags = re.findall(r"<(?:script|link)\b[^>]*>", page)

    for tag in tags:
        address = re.search(r'(?:src|href)="(static/[^"]+)"', tag)
        if address is None:
            continue
        served = await api.client.get("/" + address.group(1))
        digest = base64.b64encode(hashlib.sha384(served.content).digest()).decode()
        assert served.status_code == 200, address.group(1)
        assert f'integrity="sha384-{digest}"' in tag, address.group(1)


async def test_graphiql_runs_a_query_in_chromium_without_the_internet(
    server: LiveServer, live_api: Api
) -> None:
    # Given a user and Chromium that may reach nothing but the server
    require_chromium()
    tenant = await make_tenant()
    user = await make_user(live_api, tenant)
    ARTIFACTS.mkdir(exist_ok=True)

    # When GraphiQL is opened and a query run in it
    seen = await run_node(
        "graphiql.mjs", f"{server.http_url}/graphql", user.token, str(ARTIFACTS / "graphiql.png")
    )

    # Then it asked no other host for anything, and the query was answered
    assert seen["foreign"] == [] and seen["failed"] == []
    assert seen["response"] == {"data": {"viewer": {"__typename": "User"}}}
