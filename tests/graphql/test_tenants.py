"""Tenant settings, API keys and the recipients list."""

import pytest

from tests.helpers import Api, make_tenant, make_user

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
