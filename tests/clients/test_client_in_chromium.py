"""The client (clients/js/src/client.js) where a browser differs from Node: in Chromium, a
socket that cannot connect fails with a plain error event, not a close.

The client's behaviour does not depend on the database: these run on SQLite only."""

import httpx
import pytest

from app.settings import Settings
from tests.conftest import LiveServer, free_port
from tests.helpers import Api, make_tenant, make_user, publish
from tests.node import node_process, require_chromium
from tests.servers import TcpProxy

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The page is on the server's own port, its socket goes through a proxy's: another origin.
    return settings.model_copy(update={"allowed_origins": ["*"]})


async def test_a_client_started_before_its_server_connects_once_the_server_is_up(
    server: LiveServer,
) -> None:
    # Given a user with one unread notification, and a page running the client against a
    # port where nothing listens yet
    require_chromium()
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        api = Api(client)
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        await publish(api, tenant, ["alice"])
    proxy = TcpProxy("127.0.0.1", int(server.http_url.rsplit(":", 1)[1]))
    proxy.port = free_port()
    later = f"ws://127.0.0.1:{proxy.port}/graphql"
    async with node_process("unreachable-client.mjs", server.http_url, later, alice.token) as page:
        failing = await page.expect(lambda m: m["event"] == "failing", timeout=60)

        # When Belfry becomes reachable there
        await proxy.start()
        try:
            connected = await page.expect(lambda m: m["event"] == "connected", timeout=60)
        finally:
            await proxy.cut()

    # Then the client kept trying through the failures, and follows the count once it is up
    assert "reconnecting" in failing["statuses"]
    assert not [s for s in connected["statuses"] if s.startswith("error")]
    assert connected["count"] == 1 and "connected" in connected["statuses"]
