"""`belfry demo`: a demo tenant and user, and (only in demo mode) a page at /demo with the
<belfry-inbox> element signed in as that user.

The page gets its token from /demo/token, as a real front end gets one from its own backend:
the backend checks its session, mints a token with `issueUserToken` (or signs one with the
tenant's secret) and answers `{"token": "..."}`. This one checks nothing, which is why demo
mode is refused in production. /demo/publish publishes a sample notification to the demo user
through the real publishing service, so the bell has something to ring for."""

import os
import random
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from app.errors import BelfryError
from app.models import Role, Tenant
from app.services import catalog, publishing, tenants, users
from app.settings import Settings

DEMO_TENANT = "Demo"
DEMO_USER = "demo-user"
DEMO_PATH = "/demo"

# Bodies for the sample notifications; the titles and categories come from the catalogue.
SAMPLE_BODIES = [
    "Sent from the demo page. Open a second tab: it follows along.",
    "Mark it read here and the badge in every other tab follows.",
    "This came through publishNotification, like any from your backend.",
    "Try the category filter above the list.",
]


def enable(settings: Settings) -> Settings:
    """Demo mode for this process and the server processes it starts, which read their
    settings from the environment (uvicorn's --workers)."""
    if settings.environment == "production":
        raise BelfryError(
            "belfry demo serves an unauthenticated token endpoint: it is refused in production "
            "(BELFRY_ENVIRONMENT=production)"
        )
    os.environ["BELFRY_DEMO"] = "true"
    return settings.model_copy(update={"demo": True})


@dataclass(frozen=True, slots=True)
class DemoUser:
    tenant_id: UUID
    external_id: str


async def demo_user(settings: Settings) -> DemoUser:
    """The demo tenant (the oldest of that name) and its user, made if missing."""
    tenant = await Tenant.filter(name=DEMO_TENANT).order_by("created_at").first()
    if tenant is None:
        tenant = (await tenants.create_tenant(name=DEMO_TENANT, box=settings.secret_box)).record
    await users.upsert_user(
        tenant_id=tenant.id,
        external_id=DEMO_USER,
        fields=users.UserFields(name="Demo User", email="demo@example.com", role=Role.OWNER),
    )
    return DemoUser(tenant_id=tenant.id, external_id=DEMO_USER)


async def prepare_demo(settings: Settings) -> dict[str, Any]:
    """A demo tenant with a fresh API key and a user token, reused across restarts."""
    user = await demo_user(settings)
    key = await tenants.create_api_key(tenant_id=user.tenant_id, name="demo", announce=False)
    issued = await users.issue_user_token(
        tenant_id=user.tenant_id,
        external_id=user.external_id,
        ttl_seconds=settings.user_token_max_ttl,
        max_ttl_seconds=settings.user_token_max_ttl,
        box=settings.secret_box,
    )
    return {
        "tenantId": str(user.tenant_id),
        "apiKey": key.plain_key,
        "userExternalId": user.external_id,
        "userToken": issued.token,
    }


def routes(settings: Settings) -> list[Route]:
    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def token(request: Request) -> Response:
        user = await demo_user(settings)
        issued = await users.issue_user_token(
            tenant_id=user.tenant_id,
            external_id=user.external_id,
            ttl_seconds=settings.user_token_default_ttl,
            max_ttl_seconds=settings.user_token_max_ttl,
            box=settings.secret_box,
        )
        body = {"token": issued.token, "expiresAt": issued.expires_at.isoformat()}
        return JSONResponse(body, headers={"cache-control": "no-store"})

    async def publish(request: Request) -> Response:
        user = await demo_user(settings)
        draft = await sample_notification(user.tenant_id)
        result = await publishing.publish_notification(
            tenant_id=user.tenant_id, recipients=[user.external_id], draft=draft
        )
        body = {
            "notificationId": str(result.notification_ids[0]),
            "category": draft.category,
            "title": draft.title,
        }
        return JSONResponse(body)

    return [
        Route(DEMO_PATH, page, methods=["GET"]),
        Route(f"{DEMO_PATH}/token", token, methods=["POST"]),
        Route(f"{DEMO_PATH}/publish", publish, methods=["POST"]),
    ]


async def sample_notification(tenant_id: UUID) -> publishing.NotificationDraft:
    """A notification under a random category of the tenant's catalogue, titled after it."""
    categories = [c for _, group in await catalog.grouped(tenant_id=tenant_id) for c in group]
    category = random.choice(categories)
    return publishing.NotificationDraft(
        category=category.key, title=category.description, body=random.choice(SAMPLE_BODIES)
    )


PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Belfry demo inbox</title>
  <script src="static/belfry/belfry.js" defer></script>
  <style>
    body { margin: 0; font-family: system-ui, sans-serif; color: #111827; background: #f9fafb; }
    .bar {
      display: flex; align-items: center; justify-content: space-between; padding: 8px 24px;
      background: #111827; color: #fff; --belfry-bell-color: #fff;
      --belfry-bell-hover-bg: rgba(255, 255, 255, 0.15);
    }
    main { max-width: 640px; padding: 24px; line-height: 1.5; }
    #send {
      font: inherit; padding: 8px 14px; border: 0; border-radius: 8px; color: #fff;
      background: #2563eb; cursor: pointer;
    }
    code { background: #e5e7eb; padding: 0 4px; border-radius: 4px; }
  </style>
</head>
<body>
  <header class="bar">
    <strong>Acme dashboard</strong>
    <belfry-inbox id="inbox" token-url="demo/token" badge="unread"></belfry-inbox>
  </header>
  <main>
    <h1>Belfry demo inbox</h1>
    <p>The bell is <code>&lt;belfry-inbox&gt;</code>, signed in as <code>demo-user</code> with a
      token from <code>POST /demo/token</code>, the endpoint your own backend would expose.</p>
    <p><button id="send" type="button">Send a sample notification</button>
      <output id="sent"></output></p>
    <p>Open this page in a second tab: both stay in step through their own live connection.</p>
  </main>
  <script>
    const size = new URLSearchParams(location.search).get("page-size");
    if (size) document.getElementById("inbox").setAttribute("page-size", size);
    document.getElementById("send").addEventListener("click", async () => {
      const response = await fetch("demo/publish", { method: "POST" });
      const sent = await response.json();
      document.getElementById("sent").textContent = response.ok ? "Sent: " + sent.title : "Failed";
    });
  </script>
</body>
</html>
"""
