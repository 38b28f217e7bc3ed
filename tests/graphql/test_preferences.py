"""Preferences: catalogue default < tenant-wide < personal, field by field."""

from typing import Any

import pytest

from tests.helpers import Api, make_user

FIELDS = (
    "category scope inApp email sms webhook slack telegram channels { channel enabled } "
    "sources { channel source }"
)
LIST = f"query($scope: PreferenceScope) {{ preferences(scope: $scope) {{ {FIELDS} }} }}"
TENANT_UPDATE = f"""
mutation($input: PreferenceInput!) {{ updateTenantPreference(input: $input) {{ {FIELDS} }} }}
"""
MY_UPDATE = f"""
mutation($input: PreferenceInput!) {{ updateMyPreference(input: $input) {{ {FIELDS} }} }}
"""
CATEGORY = "billing.low_balance"


async def preference(api: Api, token: str, scope: str, category: str = CATEGORY) -> dict[str, Any]:
    listing = (await api.data(LIST, {"scope": scope}, token=token))["preferences"]
    [entry] = [p for p in listing if p["category"] == category]
    return dict(entry)


def switches(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in ("inApp", "email", "sms", "webhook", "slack", "telegram")}


def sources(entry: dict[str, Any]) -> dict[str, str]:
    return {s["channel"]: s["source"] for s in entry["sources"]}


async def test_effective_values_merge_catalogue_then_tenant_then_user(api, tenant) -> None:
    alice = await make_user(api, tenant, "alice")
    await api.data(
        TENANT_UPDATE,
        {"input": {"category": CATEGORY, "email": False, "sms": True}},
        token=tenant.api_key,
    )
    await api.data(
        MY_UPDATE, {"input": {"category": CATEGORY, "sms": False, "slack": True}}, token=alice.token
    )

    effective = await preference(api, alice.token, "EFFECTIVE")

    assert switches(effective) == {
        "inApp": True,  # catalogue default
        "email": False,  # tenant
        "sms": False,  # user over tenant
        "webhook": False,  # catalogue default
        "slack": True,  # user
        "telegram": False,
    }
    assert sources(effective) == {
        "IN_APP": "CATALOGUE",
        "EMAIL": "TENANT",
        "SMS": "USER",
        "WEBHOOK": "CATALOGUE",
        "SLACK": "USER",
        "TELEGRAM": "CATALOGUE",
    }


async def test_each_scope_shows_only_what_was_set_there(api, tenant) -> None:
    alice = await make_user(api, tenant, "alice")
    await api.data(
        TENANT_UPDATE, {"input": {"category": CATEGORY, "sms": True}}, token=tenant.api_key
    )
    await api.data(MY_UPDATE, {"input": {"category": CATEGORY, "email": False}}, token=alice.token)

    tenant_wide = await preference(api, alice.token, "TENANT")
    personal = await preference(api, alice.token, "USER")
    untouched = await preference(api, alice.token, "USER", "agent.failed")

    assert switches(tenant_wide) == {**dict.fromkeys(switches(tenant_wide)), "sms": True}
    assert switches(personal) == {**dict.fromkeys(switches(personal)), "email": False}
    assert set(switches(untouched).values()) == {None}
    assert tenant_wide["sources"] == [] and tenant_wide["scope"] == "TENANT"


async def test_a_left_out_field_stays_unchanged(api, tenant) -> None:
    first = await api.data(
        TENANT_UPDATE,
        {"input": {"category": CATEGORY, "email": False, "sms": True}},
        token=tenant.api_key,
    )
    second = await api.data(
        TENANT_UPDATE, {"input": {"category": CATEGORY, "sms": False}}, token=tenant.api_key
    )

    assert first["updateTenantPreference"]["email"] is False
    assert second["updateTenantPreference"]["email"] is False
    assert second["updateTenantPreference"]["sms"] is False


async def test_members_cannot_change_tenant_wide_preferences(api, tenant) -> None:
    member = await make_user(api, tenant, "m", role="MEMBER")
    admin = await make_user(api, tenant, "a", role="ADMIN")
    owner = await make_user(api, tenant, "o", role="OWNER")
    variables = {"input": {"category": CATEGORY, "sms": True}}

    refused = await api.error(TENANT_UPDATE, variables, token=member.token)
    by_admin = await api.data(TENANT_UPDATE, variables, token=admin.token)
    by_owner = await api.data(TENANT_UPDATE, variables, token=owner.token)
    personal = await api.data(MY_UPDATE, variables, token=member.token)

    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert by_admin["updateTenantPreference"]["sms"] is True
    assert by_owner["updateTenantPreference"]["sms"] is True
    assert personal["updateMyPreference"]["sms"] is True


async def test_personal_preferences_need_a_user(api, tenant) -> None:
    update = await api.error(MY_UPDATE, {"input": {"category": CATEGORY}}, token=tenant.api_key)
    effective = await api.error(LIST, {"scope": "EFFECTIVE"}, token=tenant.api_key)

    assert update["extensions"]["code"] == "FORBIDDEN"
    assert effective["extensions"]["code"] == "FORBIDDEN"


async def test_a_users_choices_stay_their_own(api, tenant) -> None:
    alice = await make_user(api, tenant, "alice")
    bob = await make_user(api, tenant, "bob")

    await api.data(MY_UPDATE, {"input": {"category": CATEGORY, "email": False}}, token=alice.token)

    assert (await preference(api, bob.token, "EFFECTIVE"))["email"] is True


@pytest.mark.parametrize("update", [TENANT_UPDATE, MY_UPDATE])
async def test_in_app_cannot_be_switched_off_for_a_critical_category(api, tenant, update) -> None:
    owner = await make_user(api, tenant, "o", role="OWNER")

    error = await api.error(
        update, {"input": {"category": "billing.payment_failed", "inApp": False}}, token=owner.token
    )

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "inApp"}


async def test_critical_categories_reach_the_inbox_whatever_the_defaults(api, tenant) -> None:
    alice = await make_user(api, tenant, "alice")
    await api.data(
        "mutation($input: EventCategoryInput!) { upsertEventCategory(input: $input) { key } }",
        {"input": {"key": "billing.payment_failed", "defaultChannels": ["EMAIL"]}},
        token=tenant.api_key,
    )

    effective = await preference(api, alice.token, "EFFECTIVE", "billing.payment_failed")

    assert effective["inApp"] is True and sources(effective)["IN_APP"] == "CRITICAL"


async def test_unknown_categories_have_no_preferences(api, tenant) -> None:
    error = await api.error(
        TENANT_UPDATE, {"input": {"category": "made.up", "sms": True}}, token=tenant.api_key
    )

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "category"}


@pytest.mark.parametrize("mutation", [TENANT_UPDATE, MY_UPDATE])
async def test_an_over_long_category_is_bad_user_input(api, tenant, mutation) -> None:
    alice = await make_user(api, tenant, "alice")
    token = tenant.api_key if mutation is TENANT_UPDATE else alice.token

    error = await api.error(mutation, {"input": {"category": "x" * 101, "sms": True}}, token=token)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "category"}


EVERY_CHANNEL = ["IN_APP", "EMAIL", "SMS", "WEBHOOK", "SLACK", "TELEGRAM"]


def channels(entry: dict[str, Any]) -> list[tuple[str, bool | None]]:
    return [(c["channel"], c["enabled"]) for c in entry["channels"]]


def set_channels(category: str = CATEGORY, **enabled: bool | None) -> dict[str, Any]:
    """A PreferenceInput that sets channels through `channels`, e.g. SMS=True."""
    given = [{"channel": channel, "enabled": on} for channel, on in enabled.items()]
    return {"input": {"category": category, "channels": given}}


async def test_each_scope_lists_every_channel_with_null_where_it_sets_none(api, tenant) -> None:
    alice = await make_user(api, tenant, "alice")
    await api.data(TENANT_UPDATE, set_channels(SMS=True), token=tenant.api_key)

    tenant_wide = await preference(api, alice.token, "TENANT")
    personal = await preference(api, alice.token, "USER")

    assert channels(tenant_wide) == [(c, True if c == "SMS" else None) for c in EVERY_CHANNEL]
    assert channels(personal) == [(c, None) for c in EVERY_CHANNEL]


async def test_effective_channels_hold_the_merged_values(api, tenant) -> None:
    alice = await make_user(api, tenant, "alice")
    await api.data(TENANT_UPDATE, set_channels(EMAIL=False, SMS=True), token=tenant.api_key)
    await api.data(MY_UPDATE, set_channels(SMS=False, SLACK=True), token=alice.token)

    effective = await preference(api, alice.token, "EFFECTIVE")

    assert channels(effective) == [
        ("IN_APP", True),
        ("EMAIL", False),
        ("SMS", False),
        ("WEBHOOK", False),
        ("SLACK", True),
        ("TELEGRAM", False),
    ]
    assert sources(effective)["SLACK"] == "USER"


async def test_channels_and_the_deprecated_fields_set_the_same_switches(api, tenant) -> None:
    by_channels = await api.data(TENANT_UPDATE, set_channels(WEBHOOK=True), token=tenant.api_key)
    by_field = await api.data(
        TENANT_UPDATE, {"input": {"category": CATEGORY, "email": False}}, token=tenant.api_key
    )

    updated = by_field["updateTenantPreference"]
    assert by_channels["updateTenantPreference"]["webhook"] is True
    assert (updated["webhook"], updated["email"]) == (True, False)
    assert ("WEBHOOK", True) in channels(updated) and ("EMAIL", False) in channels(updated)


async def test_a_null_entry_leaves_the_channel_to_the_level_below(api, tenant) -> None:
    alice = await make_user(api, tenant, "alice")
    await api.data(TENANT_UPDATE, set_channels(SMS=True), token=tenant.api_key)
    await api.data(MY_UPDATE, set_channels(SMS=False, EMAIL=False), token=alice.token)

    cleared = await api.data(MY_UPDATE, set_channels(SMS=None), token=alice.token)
    effective = await preference(api, alice.token, "EFFECTIVE")

    assert ("SMS", None) in channels(cleared["updateMyPreference"])
    assert ("EMAIL", False) in channels(cleared["updateMyPreference"])
    assert (effective["sms"], sources(effective)["SMS"]) == (True, "TENANT")


async def test_a_deprecated_field_left_null_leaves_the_channel_as_it_was(api, tenant) -> None:
    await api.data(TENANT_UPDATE, set_channels(SMS=True), token=tenant.api_key)

    updated = await api.data(
        TENANT_UPDATE, {"input": {"category": CATEGORY, "sms": None}}, token=tenant.api_key
    )

    assert updated["updateTenantPreference"]["sms"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            [{"channel": "EMAIL", "enabled": True}, {"channel": "EMAIL", "enabled": False}],
            "channels[1]",
        ),
        ([{"channel": "EMAIL", "enabled": True}], "email"),
    ],
)
async def test_a_channel_set_twice_is_bad_user_input(api, tenant, changes, field) -> None:
    given = {"category": CATEGORY, "channels": changes, "email": False}

    error = await api.error(TENANT_UPDATE, {"input": given}, token=tenant.api_key)
    after = await preference(api, tenant.api_key, "TENANT")

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert after["email"] is None


async def test_in_app_cannot_be_switched_off_through_channels_for_a_critical_category(
    api, tenant
) -> None:
    switched = set_channels("billing.payment_failed", EMAIL=False, IN_APP=False)

    error = await api.error(TENANT_UPDATE, switched, token=tenant.api_key)
    after = await preference(api, tenant.api_key, "TENANT", "billing.payment_failed")

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "channels[1]"}
    assert after["email"] is None
