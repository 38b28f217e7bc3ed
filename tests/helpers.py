"""Small builders for test data and a GraphQL client that reads like the API."""

import asyncio
import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet

from app.auth import signing_keys
from app.crypto import SecretBox
from app.models import Channel, User
from app.services import channels, tenants
from app.settings import Settings


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def call(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def raw(self, body: str | bytes, token: str | None = None) -> httpx.Response:
        """Posts `body` as it is: JSON that a JSON encoder would not write (NaN, say), or none."""
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        return await self.client.post("/graphql", content=body, headers=headers)

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.call(query, variables, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The single error the call must fail with."""
        body = await self.call(query, variables, token)
        assert len(body.get("errors") or []) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error


@dataclass(frozen=True)
class TenantAccess:
    tenant_id: str
    api_key: str


def random_id(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def secret_box() -> SecretBox:
    """The box of the servers the tests run (the settings fixture's), which opens what
    make_tenant seals."""
    return Settings().secret_box


async def make_tenant(
    name: str = "Acme", *, free_categories: bool = True, box: SecretBox | None = None
) -> TenantAccess:
    """A tenant with its seeded catalogue, its secrets sealed by `box` (secret_box() unless
    given). Most tests publish to made-up categories such as "a.b", so free categories are
    allowed unless a test says otherwise."""
    created = await tenants.create_tenant(name=name, box=box or secret_box())
    tenant_id = created.record.id
    if free_categories:
        changes = tenants.SettingsChanges(allow_free_categories=True)
        await tenants.update_settings(tenant_id=tenant_id, changes=changes)
    key = await tenants.create_api_key(tenant_id=tenant_id)
    return TenantAccess(tenant_id=str(tenant_id), api_key=key.plain_key)


async def signing_secret_of(tenant_id: str, box: SecretBox | None = None) -> str:
    """The tenant's current signing secret, as its host backend holds it."""
    keys = await signing_keys(box or secret_box(), uuid.UUID(tenant_id))
    assert keys is not None, f"no tenant {tenant_id}"
    return keys.current


UPSERT_USER = """
mutation($input: UpsertUserInput!) { upsertUser(input: $input) { id externalId email role } }
"""
ISSUE_TOKEN = """
mutation($externalId: String!, $ttl: Int) {
  issueUserToken(externalId: $externalId, ttlSeconds: $ttl) { token expiresAt }
}
"""
PUBLISH = """
mutation($input: PublishNotificationInput!) {
  publishNotification(input: $input) { count notificationIds duplicate }
}
"""
ERASE_USER = "mutation($externalId: String!) { eraseUser(externalId: $externalId) }"


@dataclass(frozen=True)
class UserAccess:
    external_id: str
    token: str


async def store_user(tenant_id: str, external_id: str) -> User:
    """A user written straight to the database, for tests below the API."""
    return await User.create(tenant_id=tenant_id, external_id=external_id)


async def make_user(
    api: Api, tenant: TenantAccess, external_id: str | None = None, **fields: Any
) -> UserAccess:
    """Creates a user through the API and returns their external id and a token."""
    external_id = external_id or random_id()
    await api.data(
        UPSERT_USER, {"input": {"externalId": external_id, **fields}}, token=tenant.api_key
    )
    issued = await api.data(ISSUE_TOKEN, {"externalId": external_id}, token=tenant.api_key)
    return UserAccess(external_id=external_id, token=issued["issueUserToken"]["token"])


async def publish(
    api: Api,
    tenant: TenantAccess,
    recipients: list[str],
    *,
    category: str = "billing.low_balance",
    title: str = "Your balance is getting low",
    **extra: Any,
) -> dict[str, Any]:
    variables = {"input": {"recipients": recipients, "category": category, "title": title, **extra}}
    result: dict[str, Any] = (await api.data(PUBLISH, variables, token=tenant.api_key))[
        "publishNotification"
    ]
    return result


async def erase_user(api: Api, token: str, external_id: str) -> bool:
    """Erases through the API with an API key or an owner's or admin's token."""
    variables = {"externalId": external_id}
    erased: bool = (await api.data(ERASE_USER, variables, token=token))["eraseUser"]
    return erased


async def store_webhook(
    tenant_id: str, box: SecretBox, *, url: str = "http://127.0.0.1:9/hook", secret: str = "whsec"
) -> None:
    """An enabled webhook channel saved below the API, its signing secret sealed by `box`."""
    await channels.update(
        tenant_id=uuid.UUID(tenant_id),
        channel=Channel.WEBHOOK,
        enabled=True,
        config={"url": url, "signingSecret": secret},
        box=box,
        allow_private_targets=True,
    )


def legacy_seal(secret_key: str, plain: str) -> str:
    """A secret as Belfry sealed it before keys could rotate (`enc:v1:`, one SHA-256 key),
    written out here so that a change to app/crypto.py cannot change it too."""
    key = hashlib.sha256(f"belfry-channel-secrets:{secret_key}".encode()).digest()
    return "enc:v1:" + Fernet(base64.urlsafe_b64encode(key)).encrypt(plain.encode()).decode()


@asynccontextmanager
async def postgres_session(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own to the test's PostgreSQL database, beside Belfry's."""
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        yield conn
    finally:
        await conn.close()


async def waiting_for_locks(
    conn: asyncpg.Connection, count: int, *, or_done: asyncio.Future[Any] | None = None
) -> None:
    """Until `count` sessions wait for a lock (pg_locks, since pg_stat_activity is a snapshot
    inside the transaction that `conn` holds), or until `or_done` is done if it comes first."""
    waiting = "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted"
    for _ in range(500):
        if (or_done and or_done.done()) or await conn.fetchval(waiting) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} sessions never waited for a lock")
