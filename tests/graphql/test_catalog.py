"""The event-category catalogue: seeded per tenant, extendable, and what publishing accepts."""

import pytest

from app.services.catalog import SEED
from tests.helpers import PUBLISH, Api, make_tenant, make_user

CATALOGUE = """
{ eventCategories { name categories {
    key group description defaultChannels critical emailRateLimitSeconds } } }
"""
UPSERT = """
mutation($input: EventCategoryInput!) {
  upsertEventCategory(input: $input) {
    key group description defaultChannels critical emailRateLimitSeconds
  }
}
"""
SETTINGS = """
mutation($input: TenantSettingsInput!) { updateSettings(input: $input) { allowFreeCategories } }
"""


def publish_to(category: str) -> dict[str, object]:
    return {"input": {"recipients": ["alice"], "category": category, "title": "T"}}


async def catalogue(api: Api, token: str) -> dict[str, dict[str, dict[str, object]]]:
    groups = (await api.data(CATALOGUE, token=token))["eventCategories"]
    return {g["name"]: {c["key"]: c for c in g["categories"]} for g in groups}


async def test_a_new_tenant_has_the_seeded_groups(api: Api) -> None:
    tenant = await make_tenant(free_categories=False)

    groups = await catalogue(api, tenant.api_key)

    assert {name: set(categories) for name, categories in groups.items()} == {
        name: set(categories) for name, categories in SEED.items()
    }
    flapping = {
        key
        for categories in groups.values()
        for key, c in categories.items()
        if c["emailRateLimitSeconds"] == 86400
    }
    assert flapping == {
        "billing.low_balance",
        "billing.balance_depleted",
        "agent.failed",
        "agent.degraded",
    }
    assert groups["Billing"]["billing.payment_failed"]["critical"] is True
    assert groups["Calls"]["call.daily_summary"]["defaultChannels"] == ["IN_APP", "EMAIL"]


async def test_members_can_read_the_catalogue(api: Api) -> None:
    tenant = await make_tenant()
    member = await make_user(api, tenant, "m", role="MEMBER")

    groups = await catalogue(api, member.token)

    assert "billing.low_balance" in groups["Billing"]


async def test_a_tenant_adds_and_changes_categories(api: Api) -> None:
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "adm", role="ADMIN")

    added = await api.data(
        UPSERT,
        {"input": {"key": "order.shipped", "group": "Orders", "defaultChannels": ["SMS"]}},
        token=tenant.api_key,
    )
    changed = await api.data(
        UPSERT,
        {"input": {"key": "order.shipped", "critical": True, "emailRateLimitSeconds": 3600}},
        token=admin.token,
    )

    assert added["upsertEventCategory"]["critical"] is False
    assert changed["upsertEventCategory"] == {
        "key": "order.shipped",
        "group": "Orders",
        "description": "",
        "defaultChannels": ["SMS"],
        "critical": True,
        "emailRateLimitSeconds": 3600,
    }
    assert "order.shipped" in (await catalogue(api, tenant.api_key))["Orders"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"key": "has space"}, "key"),
        ({"key": "ok.key", "emailRateLimitSeconds": -1}, "emailRateLimitSeconds"),
        ({"key": "ok.key", "group": ""}, "group"),
    ],
)
async def test_bad_categories_are_refused(api: Api, fields, field) -> None:
    tenant = await make_tenant()

    error = await api.error(UPSERT, {"input": fields}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_another_tenants_categories_are_not_visible(api: Api) -> None:
    first, second = await make_tenant("A"), await make_tenant("B")
    await api.data(UPSERT, {"input": {"key": "only.mine", "group": "Mine"}}, token=first.api_key)

    assert "Mine" not in await catalogue(api, second.api_key)


async def test_publishing_to_an_unknown_category_is_refused_unless_free(api: Api) -> None:
    tenant = await make_tenant(free_categories=False)

    unknown = await api.error(PUBLISH, publish_to("made.up"), token=tenant.api_key)
    known = await api.data(PUBLISH, publish_to("billing.low_balance"), token=tenant.api_key)
    await api.data(SETTINGS, {"input": {"allowFreeCategories": True}}, token=tenant.api_key)
    freed = await api.data(PUBLISH, publish_to("made.up"), token=tenant.api_key)

    assert unknown["extensions"] == {"code": "BAD_USER_INPUT", "field": "category"}
    assert known["publishNotification"]["count"] == 1
    assert freed["publishNotification"]["count"] == 1


async def test_an_added_category_can_be_published(api: Api) -> None:
    tenant = await make_tenant(free_categories=False)
    await api.data(UPSERT, {"input": {"key": "order.shipped"}}, token=tenant.api_key)

    result = await api.data(PUBLISH, publish_to("order.shipped"), token=tenant.api_key)

    assert result["publishNotification"]["count"] == 1
