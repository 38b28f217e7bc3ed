"""Tenant settings, API keys, the signing secret and the recipients list."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tests.conftest import Clock
from tests.helpers import ISSUE_TOKEN, Api, TenantAccess, make_tenant, make_user, signing_secret_of

SETTINGS = "{ settings { retentionDays purgeDeletedAfterDays allowFreeCategories } }"
UPDATE = """
mutation($input: TenantSettingsInput!) {
  updateSettings(input: $input) { retentionDays purgeDeletedAfterDays allowFreeCategories }
}
"""
CREATE_KEY = """
mutation($name: String!) { createApiKey(name: $name) { key apiKey { id name prefix revokedAt } } }
"""
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"
KEYS = "{ apiKeys { id name prefix lastUsedAt revokedAt } }"
INBOX = "{ notifications { edges { node { category title } } } }"
ROTATE = "mutation($grace: Int) { rotateSigningSecret(graceSeconds: $grace) }"
VIEWER = "{ viewer { externalId } }"


async def test_settings_start_at_the_defaults_and_change_field_by_field(api: Api) -> None:
    tenant = await make_tenant(free_categories=False)

    before = await api.data(SETTINGS, token=tenant.api_key)
    after = await api.data(UPDATE, {"input": {"retentionDays": 30}}, token=tenant.api_key)

    assert before["settings"] == {
        "retentionDays": 90,
        "purgeDeletedAfterDays": 90,
        "allowFreeCategories": False,
    }
    assert after["updateSettings"] == {**before["settings"], "retentionDays": 30}


@pytest.mark.parametrize("field", ["retentionDays", "purgeDeletedAfterDays"])
@pytest.mark.parametrize("days", [0, 3651])
async def test_retention_is_bounded(api: Api, field: str, days: int) -> None:
    tenant = await make_tenant()

    error = await api.error(UPDATE, {"input": {field: days}}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert (await api.data(SETTINGS, token=tenant.api_key))["settings"][field] == 90


async def test_a_created_key_is_shown_once_and_works(api: Api) -> None:
    tenant = await make_tenant()

    created = (await api.data(CREATE_KEY, {"name": "ci"}, token=tenant.api_key))["createApiKey"]
    listed = (await api.data(KEYS, token=created["key"]))["apiKeys"]

    assert created["key"].startswith(created["apiKey"]["prefix"])
    assert {k["name"] for k in listed} == {"", "ci"}
    assert all(created["key"] not in str(k) for k in listed)


async def test_a_revoked_key_is_refused_at_once(api: Api) -> None:
    tenant = await make_tenant()
    created = (await api.data(CREATE_KEY, {"name": "old"}, token=tenant.api_key))["createApiKey"]

    revoked = await api.data(REVOKE_KEY, {"id": created["apiKey"]["id"]}, token=tenant.api_key)
    again = await api.data(REVOKE_KEY, {"id": created["apiKey"]["id"]}, token=tenant.api_key)
    refused = await api.error(KEYS, token=created["key"])

    assert revoked["revokeApiKey"]["revokedAt"] is not None
    assert again["revokeApiKey"]["revokedAt"] == revoked["revokeApiKey"]["revokedAt"]
    assert refused["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revoking_an_unknown_key_is_not_found(api: Api) -> None:
    tenant = await make_tenant()

    error = await api.error(REVOKE_KEY, {"id": "junk"}, token=tenant.api_key)

    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_owners_and_admins_hear_of_key_changes_and_members_do_not(api: Api) -> None:
    tenant = await make_tenant(free_categories=False)
    owner = await make_user(api, tenant, "o", role="OWNER")
    admin = await make_user(api, tenant, "a", role="ADMIN")
    member = await make_user(api, tenant, "m", role="MEMBER")

    created = (await api.data(CREATE_KEY, {"name": "ci"}, token=owner.token))["createApiKey"]
    await api.data(REVOKE_KEY, {"id": created["apiKey"]["id"]}, token=admin.token)

    for user in (owner, admin):
        edges = (await api.data(INBOX, token=user.token))["notifications"]["edges"]
        assert [e["node"]["category"] for e in edges] == [
            "system.api_key_revoked",
            "system.api_key_created",
        ]
        assert created["apiKey"]["prefix"] in edges[0]["node"]["title"]
    assert (await api.data(INBOX, token=member.token))["notifications"]["edges"] == []


async def test_recipients_lists_users_and_roles(api: Api) -> None:
    tenant = await make_tenant()
    await make_user(api, tenant, "alice", role="ADMIN")
    await make_user(api, tenant, "bob")

    recipients = await api.data(
        "{ recipients { users { externalId role } roles } }", token=tenant.api_key
    )

    assert recipients["recipients"] == {
        "users": [
            {"externalId": "alice", "role": "ADMIN"},
            {"externalId": "bob", "role": "MEMBER"},
        ],
        "roles": ["OWNER", "ADMIN", "MEMBER"],
    }


# --- the signing secret ----------------------------------------------------------------------


def host_minted(tenant: TenantAccess, secret: str, external_id: str = "alice") -> str:
    """A token as the host backend signs one itself."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    claims = {"sub": external_id, "tid": tenant.tenant_id, "exp": expires}
    return jwt.encode(claims, secret, algorithm="HS256")


async def rotate(api: Api, tenant: TenantAccess, grace: int | None = None) -> str:
    secret: str = (await api.data(ROTATE, {"grace": grace}, token=tenant.api_key))[
        "rotateSigningSecret"
    ]
    return secret


async def code_for(api: Api, token: str) -> str | None:
    """What the viewer query answers the token: None when it is let in, else the error code."""
    body = await api.call(VIEWER, token=token)
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


async def test_a_rotated_secret_signs_the_tokens_issued_from_then_on(api: Api) -> None:
    # Given
    tenant = await make_tenant()
    await make_user(api, tenant, "alice")
    old = await signing_secret_of(tenant.tenant_id)

    # When
    new = await rotate(api, tenant)

    # Then the host backend's tokens signed with it work, and Belfry signs with it too
    issued = await api.data(ISSUE_TOKEN, {"externalId": "alice"}, token=tenant.api_key)
    token = issued["issueUserToken"]["token"]
    assert new != old and new == await signing_secret_of(tenant.tenant_id)
    assert jwt.decode(token, new, algorithms=["HS256"])["sub"] == "alice"
    assert await code_for(api, host_minted(tenant, new)) is None


async def test_tokens_of_the_old_secret_work_until_the_grace_ends(api: Api, clock: Clock) -> None:
    # Given a token Belfry issued and one the host backend minted, both with the old secret
    tenant = await make_tenant()
    issued = (await make_user(api, tenant, "alice")).token
    minted = host_minted(tenant, await signing_secret_of(tenant.tenant_id))

    # When the secret is rotated with the default grace (a day)
    await rotate(api, tenant)

    # Then both work through the day, and are refused after it
    assert [await code_for(api, token) for token in (issued, minted)] == [None, None]
    clock.set(datetime.now(UTC) + timedelta(days=1, seconds=1))
    assert [await code_for(api, token) for token in (issued, minted)] == ["UNAUTHENTICATED"] * 2


async def test_a_rotation_without_grace_refuses_the_old_tokens_at_once(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")

    await rotate(api, tenant, grace=0)
    error = await api.error(VIEWER, token=alice.token)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "grace period has ended" in error["message"]


@pytest.mark.parametrize("grace", [-1, 30 * 24 * 3600 + 1])
async def test_grace_seconds_is_bounded_to_30_days(api: Api, grace: int) -> None:
    # Given
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")
    before = await signing_secret_of(tenant.tenant_id)

    # When
    error = await api.error(ROTATE, {"grace": grace}, token=tenant.api_key)

    # Then nothing changed
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "graceSeconds"}
    assert await signing_secret_of(tenant.tenant_id) == before
    assert await code_for(api, alice.token) is None


async def test_an_owner_may_rotate_the_secret_and_keeps_working_through_the_grace(
    api: Api,
) -> None:
    tenant = await make_tenant()
    owner = await make_user(api, tenant, "o", role="OWNER")

    new = (await api.data(ROTATE, {"grace": 60}, token=owner.token))["rotateSigningSecret"]

    assert new == await signing_secret_of(tenant.tenant_id)
    assert await code_for(api, owner.token) is None
