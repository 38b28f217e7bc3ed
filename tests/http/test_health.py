"""/healthz answers while the process runs; /readyz only while it reaches its database."""

import httpx

from app.main import create_app
from app.settings import Settings
from tests.helpers import Api


async def test_healthz_answers_ok(api: Api) -> None:
    response = await api.client.get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(api: Api) -> None:
    response = await api.client.get("/readyz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_is_unavailable_without_a_database() -> None:
    # Port 9 (discard) has no PostgreSQL behind it on any machine this runs on.
    app = create_app(Settings(database_url="postgres://postgres@127.0.0.1:9/none", gc_tuning=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.get("/readyz")

    assert response.status_code == 503 and response.json()["status"] == "unavailable"
