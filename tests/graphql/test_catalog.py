"""The event-category catalogue: seeded per tenant, extendable, and what publishing accepts."""

import asyncio
from datetime import timedelta

import pytest

from app import clock as app_clock
from app.models import EventCategory
from app.services.catalog import SEED
from tests.helpers import (
    PUBLISH,
    Api,
    make_tenant,
    make_user,
    postgres_session,
    waiting_for_locks,
)

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
SEND_TEST = """
mutation($input: TestNotificationInput) { sendTestNotification(input: $input) { jobId } }
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


# --- Free categories join the catalogue when published ------------------------------------------

PREFERENCE = """
mutation($input: PreferenceInput!) { OPERATION(input: $input) { category scope inApp email } }
"""


async def test_a_published_free_category_joins_the_catalogue_under_other(api: Api, tenant) -> None:
    # Given a tenant that allows free categories (the fixture's), and a category it lacks
    assert "order.shipped" not in (await catalogue(api, tenant.api_key))["Other"]

    # When it publishes to that category
    await api.data(PUBLISH, publish_to("order.shipped"), token=tenant.api_key)

    # Then the catalogue has it under Other, going to the inbox alone as it did
    groups = await catalogue(api, tenant.api_key)
    assert groups["Other"]["order.shipped"] == {
        "key": "order.shipped",
        "group": "Other",
        "description": "Published as a free category",
        "defaultChannels": ["IN_APP"],
        "critical": False,
        "emailRateLimitSeconds": None,
    }


async def test_a_published_free_categorys_tenant_preference_can_be_set(api: Api, tenant) -> None:
    # Given a free category the tenant published
    await api.data(PUBLISH, publish_to("order.shipped"), token=tenant.api_key)

    # When the tenant switches its email on
    changes = {"input": {"category": "order.shipped", "email": True}}
    updated = await api.data(
        PREFERENCE.replace("OPERATION", "updateTenantPreference"), changes, token=tenant.api_key
    )

    # Then the preference is kept
    assert updated["updateTenantPreference"] == {
        "category": "order.shipped",
        "scope": "TENANT",
        "inApp": None,
        "email": True,
    }


async def test_a_published_free_categorys_own_preference_can_be_set(
    api: Api, tenant, alice
) -> None:
    # Given a free category the tenant published to alice
    await api.data(PUBLISH, publish_to("order.shipped"), token=tenant.api_key)

    # When alice switches its in-app notifications off
    changes = {"input": {"category": "order.shipped", "inApp": False}}
    updated = await api.data(
        PREFERENCE.replace("OPERATION", "updateMyPreference"), changes, token=alice.token
    )

    # Then her preference is kept
    assert updated["updateMyPreference"] == {
        "category": "order.shipped",
        "scope": "USER",
        "inApp": False,
        "email": None,
    }


async def test_a_scheduled_free_category_joins_the_catalogue_when_scheduled(
    api: Api, tenant
) -> None:
    # Given a tenant that allows free categories, and a notification of a new one
    send_at = (app_clock.now() + timedelta(days=1)).isoformat()
    notification = {"recipients": ["alice"], "category": "order.shipped", "title": "T"}

    # When it is scheduled for tomorrow
    await api.data(PUBLISH, {"input": {**notification, "sendAt": send_at}}, token=tenant.api_key)

    # Then the category is in the catalogue already, so preferences can be set before it goes
    assert "order.shipped" in (await catalogue(api, tenant.api_key))["Other"]


async def test_a_members_test_send_to_a_free_category_leaves_the_catalogue_as_it_was(
    api: Api, tenant, alice
) -> None:
    # Given a member, who may not change the catalogue, in a tenant with free categories

    # When she sends herself a test of a category the catalogue does not have
    test = {"input": {"category": "made.up", "requestedChannels": ["IN_APP"]}}
    sent = await api.data(SEND_TEST, test, token=alice.token)

    # Then the test went, and the catalogue does not have the category
    groups = await catalogue(api, tenant.api_key)
    assert sent["sendTestNotification"]["jobId"]
    assert "made.up" not in {key for categories in groups.values() for key in categories}


async def test_a_category_already_in_the_catalogue_keeps_its_group(api: Api, tenant) -> None:
    # Given a category the tenant added to its own group, sent by SMS
    category = {"key": "order.shipped", "group": "Orders", "defaultChannels": ["SMS"]}
    await api.data(UPSERT, {"input": category}, token=tenant.api_key)

    # When it is published
    await api.data(PUBLISH, publish_to("order.shipped"), token=tenant.api_key)

    # Then it stays as it was, in its group alone
    groups = await catalogue(api, tenant.api_key)
    assert groups["Orders"]["order.shipped"]["defaultChannels"] == ["SMS"]
    assert "order.shipped" not in groups["Other"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no row locks
async def test_a_free_category_published_twice_at_once_joins_once(
    api: Api, tenant, alice, database_url: str
) -> None:
    # Given the catalogue held by someone else for a moment, so that both publishes below find
    # no entry and wait to add one
    async with postgres_session(database_url) as holder:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("LOCK TABLE event_categories IN SHARE MODE")

        # When the same new category is published twice at once
        publishes = [
            asyncio.create_task(api.call(PUBLISH, publish_to("order.shipped"), tenant.api_key))
            for _ in range(2)
        ]
        await waiting_for_locks(holder, 2)
        await hold.rollback()
        results = await asyncio.gather(*publishes)

    # Then both went out and the catalogue has the category once
    assert [r.get("errors") for r in results] == [None, None]
    entries = await EventCategory.filter(tenant_id=tenant.tenant_id, key="order.shipped")
    assert [e.group for e in entries] == ["Other"]
