"""channels_for: the one answer delivery asks for."""

from uuid import UUID

from app.models import Channel, User
from app.services import preferences
from tests.helpers import Api, make_tenant, make_user

TENANT_UPDATE = (
    "mutation($input: PreferenceInput!) { updateTenantPreference(input: $input) { category } }"
)
MY_UPDATE = "mutation($input: PreferenceInput!) { updateMyPreference(input: $input) { category } }"


async def test_channels_for_follows_the_merged_preferences(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")
    user_id = (await User.get(tenant_id=tenant.tenant_id, external_id="alice")).id
    tenant_id = UUID(tenant.tenant_id)

    before = await preferences.channels_for(
        tenant_id=tenant_id, user_id=user_id, category="agent.degraded"
    )
    await api.data(
        TENANT_UPDATE,
        {"input": {"category": "agent.degraded", "webhook": True}},
        token=tenant.api_key,
    )
    await api.data(
        MY_UPDATE, {"input": {"category": "agent.degraded", "email": False}}, token=alice.token
    )
    after = await preferences.channels_for(
        tenant_id=tenant_id, user_id=user_id, category="agent.degraded"
    )
    free = await preferences.channels_for(tenant_id=tenant_id, user_id=user_id, category="made.up")

    assert before == {Channel.IN_APP, Channel.EMAIL}
    assert after == {Channel.IN_APP, Channel.WEBHOOK}
    assert free == {Channel.IN_APP}
