"""Users, roles and the tokens their browsers use."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.models import ApiKey
from tests.helpers import ISSUE_TOKEN, UPSERT_USER, Api, make_tenant, make_user

VIEWER = "{ viewer { id externalId email name role } }"
FULL_UPSERT = """
mutation($input: UpsertUserInput!) {
  upsertUser(input: $input) { id externalId email phone name role locale timezone }
}
"""


async def upsert(api: Api, api_key: str, **fields: object) -> dict[str, object]:
    result: dict[str, object] = (await api.data(FULL_UPSERT, {"input": fields}, token=api_key))[
        "upsertUser"
    ]
    return result


async def test_upsert_creates_then_changes_only_the_given_fields(api: Api) -> None:
    tenant = await make_tenant()

    created = await upsert(
        api, tenant.api_key, externalId="u1", email="a@example.com", name="Ann", locale="en"
    )
    updated = await upsert(api, tenant.api_key, externalId="u1", role="ADMIN", phone="+4412345")

    assert created["role"] == "MEMBER"
    assert updated == {
        "id": created["id"],
        "externalId": "u1",
        "email": "a@example.com",
        "phone": "+4412345",
        "name": "Ann",
        "role": "ADMIN",
        "locale": "en",
        "timezone": None,
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"externalId": ""}, "externalId"),
        ({"externalId": "u", "email": "not-an-address"}, "email"),
        ({"externalId": "u", "phone": "call me"}, "phone"),
        ({"externalId": "u", "name": "x" * 201}, "name"),
    ],
)
async def test_upsert_refuses_bad_fields(api: Api, fields, field) -> None:
    tenant = await make_tenant()

    error = await api.error(FULL_UPSERT, {"input": fields}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_upsert_needs_an_api_key(api: Api) -> None:
    tenant = await make_tenant()
    owner = await make_user(api, tenant, "owner", role="OWNER")

    error = await api.error(UPSERT_USER, {"input": {"externalId": "x"}}, token=owner.token)

    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_viewer_is_the_tokens_user_with_the_role_on_record(api: Api) -> None:
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "adm", role="ADMIN", email="adm@example.com")

    viewer = (await api.data(VIEWER, token=admin.token))["viewer"]
    await upsert(api, tenant.api_key, externalId="adm", role="MEMBER")
    demoted = (await api.data(VIEWER, token=admin.token))["viewer"]

    assert viewer["externalId"] == "adm" and viewer["role"] == "ADMIN"
    assert viewer["email"] == "adm@example.com"
    assert demoted["role"] == "MEMBER"  # the same token now carries the new role


async def test_issue_token_for_an_unknown_user_is_not_found(api: Api) -> None:
    tenant = await make_tenant()

    error = await api.error(ISSUE_TOKEN, {"externalId": "ghost"}, token=tenant.api_key)

    assert error["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("ttl", [0, 59, 30 * 24 * 3600 + 1])
async def test_issue_token_bounds_its_lifetime(api: Api, ttl: int) -> None:
    tenant = await make_tenant()
    await make_user(api, tenant, "u")

    error = await api.error(ISSUE_TOKEN, {"externalId": "u", "ttl": ttl}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "ttlSeconds"}


async def test_issued_token_expires_when_it_says(api: Api) -> None:
    tenant = await make_tenant()
    await make_user(api, tenant, "u")

    issued = await api.data(ISSUE_TOKEN, {"externalId": "u", "ttl": 600}, token=tenant.api_key)

    expires_at = datetime.fromisoformat(issued["issueUserToken"]["expiresAt"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(seconds=600))) < timedelta(seconds=5)


def host_minted_token(tenant_id: str, secret: str, subject: str, expires_in: int = 300) -> str:
    """What a host backend does on its own with PyJWT and the tenant's signing secret."""
    claims = {
        "sub": subject,
        "tid": tenant_id,
        "exp": datetime.now(UTC) + timedelta(seconds=expires_in),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


async def tenant_secret(tenant_id: str) -> str:
    from app.models import Tenant

    return (await Tenant.get(id=tenant_id)).signing_secret


async def test_a_host_backend_can_mint_tokens_with_the_signing_secret(api: Api) -> None:
    tenant = await make_tenant()
    token = host_minted_token(tenant.tenant_id, await tenant_secret(tenant.tenant_id), "hosted")

    viewer = (await api.data(VIEWER, token=token))["viewer"]

    assert viewer["externalId"] == "hosted" and viewer["role"] == "MEMBER"


async def test_bad_credentials_are_unauthenticated(api: Api) -> None:
    tenant = await make_tenant()
    other = await make_tenant("Other")
    secret = await tenant_secret(tenant.tenant_id)
    candidates = {
        "expired": host_minted_token(tenant.tenant_id, secret, "u", expires_in=-10),
        "wrong secret": host_minted_token(tenant.tenant_id, "not-the-secret-" + "x" * 32, "u"),
        "other tenant's secret": host_minted_token(
            tenant.tenant_id, await tenant_secret(other.tenant_id), "u"
        ),
        "unknown tenant": host_minted_token("00000000-0000-0000-0000-000000000000", secret, "u"),
        "garbage": "not.a.jwt",
        "unknown key": "bfk_" + "x" * 43,
        "unstorable subject": host_minted_token(tenant.tenant_id, secret, "u\x00"),
    }

    for reason, token in candidates.items():
        error = await api.error(VIEWER, token=token)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", reason


async def test_non_bearer_authorization_is_unauthenticated(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": "Basic abc"}
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_api_key_is_refused_at_once(api: Api) -> None:
    tenant = await make_tenant()
    await upsert(api, tenant.api_key, externalId="u")

    await ApiKey.filter(tenant_id=tenant.tenant_id).update(revoked_at=datetime.now(UTC))
    error = await api.error(FULL_UPSERT, {"input": {"externalId": "u"}}, token=tenant.api_key)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_api_key_use_is_recorded(api: Api) -> None:
    tenant = await make_tenant()

    await upsert(api, tenant.api_key, externalId="u")

    key = await ApiKey.get(tenant_id=tenant.tenant_id)
    assert key.last_used_at is not None
    assert datetime.now(UTC) - key.last_used_at < timedelta(minutes=1)
