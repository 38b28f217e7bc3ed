"""Access declared on every root field, and enforced for every kind of caller."""

import pytest
from graphql import build_schema
from strawberry.types.base import StrawberryObjectDefinition

from app.graphql.permissions import ADMINS, OWNERS, Access, Allowed
from app.graphql.schema import schema
from tests.helpers import Api, make_tenant, make_user

NO_ID = "00000000-0000-0000-0000-000000000000"  # names nothing
# One call per operation that declares itself for the tenant's administrators.
ADMIN_CALLS = {
    "settings": "{ settings { retentionDays } }",
    "updateSettings": "mutation { updateSettings(input: {retentionDays: 30}) { retentionDays } }",
    "apiKeys": "{ apiKeys { id } }",
    "createApiKey": 'mutation { createApiKey(name: "x") { key } }',
    "revokeApiKey": 'mutation { revokeApiKey(id: "00000000-0000-0000-0000-000000000000") { id } }',
    "eraseUser": 'mutation { eraseUser(externalId: "nobody") }',
    "recipients": "{ recipients { roles } }",
    "upsertEventCategory": 'mutation { upsertEventCategory(input: {key: "x.y"}) { key } }',
    "channels": "{ channels { channel } }",
    "updateChannel": "mutation { updateChannel(channel: SLACK, input: {}) { ready } }",
    "testChannel": "mutation { testChannel(channel: SLACK) }",
    "retryDelivery": f'mutation {{ retryDelivery(id: "{NO_ID}") {{ id }} }}',
    "deleteDelivery": f'mutation {{ deleteDelivery(id: "{NO_ID}") }}',
    "deleteDeliveries": "mutation { deleteDeliveries(filter: {status: FAILED}) { deleted } }",
    "dispatcherStatus": "{ dispatcherStatus { queueDepth } }",
    "rules": "{ rules { id } }",
    "rule": f'{{ rule(id: "{NO_ID}") {{ id }} }}',
    "createRule": (
        'mutation { createRule(input: {name: "r", events: ["auth.*"], '
        'actions: [{channel: EMAIL, recipients: ["role:ADMIN"]}]}) { id } }'
    ),
    "updateRule": f'mutation {{ updateRule(id: "{NO_ID}", input: {{}}) {{ id }} }}',
    "toggleRule": f'mutation {{ toggleRule(id: "{NO_ID}") {{ id }} }}',
    "deleteRule": f'mutation {{ deleteRule(id: "{NO_ID}") }}',
    "updateTenantPreference": (
        'mutation { updateTenantPreference(input: {category: "auth.welcome", sms: true}) '
        "{ category } }"
    ),
    "teams": "{ teams { key memberCount } }",
    "upsertTeam": 'mutation { upsertTeam(input: {key: "ops", name: "Ops"}) { key } }',
    "deleteTeam": 'mutation { deleteTeam(key: "ops") }',
    "setTeamMembers": 'mutation { setTeamMembers(key: "ops", externalIds: ["x"]) { key } }',
    "addTeamMembers": 'mutation { addTeamMembers(key: "ops", externalIds: ["x"]) { key } }',
    "removeTeamMembers": 'mutation { removeTeamMembers(key: "ops", externalIds: ["x"]) { key } }',
}
# One call per operation declared for owners and API keys: not for an admin.
OWNER_CALLS = {
    "rotateSigningSecret": "mutation { rotateSigningSecret }",
}
SERVER_CALLS = {
    "publishNotification": (
        'mutation { publishNotification(input: {recipients: ["x"], category: "auth.welcome", '
        'title: "t"}) { count } }'
    ),
    "upsertUser": 'mutation { upsertUser(input: {externalId: "x"}) { id } }',
    "publishEvent": 'mutation { publishEvent(input: {type: "auth.login"}) { count } }',
    "issueUserToken": 'mutation { issueUserToken(externalId: "x") { token } }',
    "scheduledNotifications": "{ scheduledNotifications { totalCount } }",
    "cancelScheduledNotification": (
        'mutation { cancelScheduledNotification(id: "00000000-0000-0000-0000-000000000000") }'
    ),
}


def codes(body: dict[str, object]) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors") or []}  # type: ignore[attr-defined]


def declared() -> dict[str, Access | None]:
    """Each root field's declared access (None: it declares none), read from the schema."""
    found: dict[str, Access | None] = {}
    for root in ("Query", "Mutation", "Subscription"):
        definition = schema.get_type_by_name(root)
        assert isinstance(definition, StrawberryObjectDefinition)
        for field in definition.fields:
            access = [p.access for p in field.permission_classes if issubclass(p, Allowed)]
            name = schema.config.name_converter.get_graphql_name(field)
            found[name] = access[0] if len(access) == 1 else None
    return found


def test_every_root_field_declares_its_access() -> None:
    printed = build_schema(schema.as_str())
    roots = (printed.query_type, printed.mutation_type, printed.subscription_type)
    root_fields = {name for root in roots if root for name in root.fields}

    access = declared()

    assert set(access) == root_fields
    assert {name for name, needed in access.items() if needed is None} == set()


def test_the_admin_calls_here_cover_the_declarations() -> None:
    access = declared()
    admin_only = {name for name, needed in access.items() if needed == ADMINS}
    owner_only = {name for name, needed in access.items() if needed == OWNERS}
    server_only = {name for name, needed in access.items() if needed == Access.API_KEY}

    assert admin_only == set(ADMIN_CALLS) and server_only == set(SERVER_CALLS)
    assert owner_only == set(OWNER_CALLS)


@pytest.mark.parametrize("operation", sorted(ADMIN_CALLS))
async def test_admin_operations_refuse_members_and_strangers(api: Api, operation: str) -> None:
    tenant = await make_tenant()
    member = await make_user(api, tenant, "m", role="MEMBER")
    query = ADMIN_CALLS[operation]

    assert codes(await api.call(query, token=member.token)) == {"FORBIDDEN"}
    assert codes(await api.call(query)) == {"UNAUTHENTICATED"}


@pytest.mark.parametrize("operation", sorted(ADMIN_CALLS))
async def test_admin_operations_admit_owners_admins_and_api_keys(api: Api, operation: str) -> None:
    tenant = await make_tenant()
    owner = await make_user(api, tenant, "o", role="OWNER")
    admin = await make_user(api, tenant, "a", role="ADMIN")
    query = ADMIN_CALLS[operation]

    for token in (owner.token, admin.token, tenant.api_key):
        # Some calls name nothing real (NOT_FOUND) or test an unconfigured channel
        # (BAD_USER_INPUT): both come from past the permission check.
        assert codes(await api.call(query, token=token)) <= {"NOT_FOUND", "BAD_USER_INPUT"}


@pytest.mark.parametrize("operation", sorted(OWNER_CALLS))
async def test_owner_operations_refuse_admins_members_and_strangers(
    api: Api, operation: str
) -> None:
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "a", role="ADMIN")
    member = await make_user(api, tenant, "m", role="MEMBER")
    query = OWNER_CALLS[operation]

    assert codes(await api.call(query, token=admin.token)) == {"FORBIDDEN"}
    assert codes(await api.call(query, token=member.token)) == {"FORBIDDEN"}
    assert codes(await api.call(query)) == {"UNAUTHENTICATED"}


@pytest.mark.parametrize("operation", sorted(OWNER_CALLS))
async def test_owner_operations_admit_owners_and_api_keys(api: Api, operation: str) -> None:
    tenant = await make_tenant()
    owner = await make_user(api, tenant, "o", role="OWNER")

    for token in (owner.token, tenant.api_key):
        assert codes(await api.call(OWNER_CALLS[operation], token=token)) == set()


@pytest.mark.parametrize("operation", sorted(SERVER_CALLS))
async def test_server_operations_refuse_every_user(api: Api, operation: str) -> None:
    tenant = await make_tenant()
    owner = await make_user(api, tenant, "o", role="OWNER")

    assert codes(await api.call(SERVER_CALLS[operation], token=owner.token)) == {"FORBIDDEN"}
    assert codes(await api.call(SERVER_CALLS[operation])) == {"UNAUTHENTICATED"}


async def test_another_tenants_admins_reach_nothing_of_ours(api: Api) -> None:
    ours, theirs = await make_tenant("Ours"), await make_tenant("Theirs")
    their_owner = await make_user(api, theirs, "o", role="OWNER")
    our_key_id = (await api.data("{ apiKeys { id } }", token=ours.api_key))["apiKeys"][0]["id"]
    revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { id } }"

    by_key = await api.error(revoke, {"id": our_key_id}, token=theirs.api_key)
    by_owner = await api.error(revoke, {"id": our_key_id}, token=their_owner.token)
    await api.data(
        "mutation { updateSettings(input: {retentionDays: 7}) { retentionDays } }",
        token=their_owner.token,
    )

    assert by_key["extensions"]["code"] == by_owner["extensions"]["code"] == "NOT_FOUND"
    ours_now = await api.data(
        "{ settings { retentionDays } apiKeys { revokedAt } }", token=ours.api_key
    )
    assert ours_now["settings"]["retentionDays"] == 90
    assert ours_now["apiKeys"][0]["revokedAt"] is None
