"""Producers publish with an API key; each recipient gets their own copy."""

import asyncio

import pytest

from tests.helpers import PUBLISH, Api, make_tenant, make_user, publish

COUNT = "{ unreadCount }"
USERS = "query { viewer { externalId role } }"


def publish_input(recipients: list[str], **extra: object) -> dict[str, object]:
    return {
        "input": {
            "recipients": recipients,
            "category": "billing.low_balance",
            "title": "T",
            **extra,
        }
    }


async def test_each_recipient_gets_one_notification(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")
    bob = await make_user(api, tenant, "bob")

    result = await publish(api, tenant, ["alice", "bob", "alice"])

    assert result["count"] == 2 and result["duplicate"] is False
    assert len(set(result["notificationIds"])) == 2
    assert (await api.data(COUNT, token=alice.token))["unreadCount"] == 1
    assert (await api.data(COUNT, token=bob.token))["unreadCount"] == 1


async def test_unknown_recipients_become_members(api: Api) -> None:
    tenant = await make_tenant()

    await publish(api, tenant, ["newcomer"])
    newcomer = await make_user(api, tenant, "newcomer")

    assert (await api.data(USERS, token=newcomer.token))["viewer"]["role"] == "MEMBER"
    assert (await api.data(COUNT, token=newcomer.token))["unreadCount"] == 1


async def test_a_retried_publish_returns_the_first_result(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")

    first = await publish(api, tenant, ["alice", "bob"], idempotencyKey="order-42")
    retry = await publish(api, tenant, ["alice", "bob"], idempotencyKey="order-42")

    assert first["duplicate"] is False and retry["duplicate"] is True
    assert retry["notificationIds"] == first["notificationIds"] and retry["count"] == 2
    assert (await api.data(COUNT, token=alice.token))["unreadCount"] == 1


async def test_racing_retries_write_once(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")

    results = await asyncio.gather(
        *[publish(api, tenant, ["alice", "carol"], idempotencyKey="race") for _ in range(6)]
    )

    assert len({tuple(r["notificationIds"]) for r in results}) == 1
    assert sum(not r["duplicate"] for r in results) == 1
    assert (await api.data(COUNT, token=alice.token))["unreadCount"] == 1


async def test_racing_publishes_to_a_new_user_both_land(api: Api) -> None:
    tenant = await make_tenant()

    results = await asyncio.gather(*[publish(api, tenant, ["fresh"]) for _ in range(5)])
    fresh = await make_user(api, tenant, "fresh")

    assert all(r["count"] == 1 for r in results)
    assert (await api.data(COUNT, token=fresh.token))["unreadCount"] == 5


async def test_idempotency_keys_are_per_tenant(api: Api) -> None:
    first, second = await make_tenant("A"), await make_tenant("B")

    a = await publish(api, first, ["alice"], idempotencyKey="same")
    b = await publish(api, second, ["alice"], idempotencyKey="same")

    assert a["duplicate"] is False and b["duplicate"] is False
    assert a["notificationIds"] != b["notificationIds"]


async def test_same_external_id_in_another_tenant_is_another_user(api: Api) -> None:
    first, second = await make_tenant("A"), await make_tenant("B")
    alice_a = await make_user(api, first, "alice")
    alice_b = await make_user(api, second, "alice")

    await publish(api, first, ["alice"])

    assert (await api.data(COUNT, token=alice_a.token))["unreadCount"] == 1
    assert (await api.data(COUNT, token=alice_b.token))["unreadCount"] == 0


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        (publish_input([]), "recipients"),
        (publish_input([""]), "recipients"),
        (publish_input(["x" * 201]), "recipients"),
        (publish_input(["a"], title="   "), "title"),
        (publish_input(["a"], title="x" * 501), "title"),
        (publish_input(["a"], category="has space"), "category"),
        (publish_input(["a"], category=""), "category"),
        (publish_input(["a"], link="x" * 2049), "link"),
        (publish_input(["a"], idempotencyKey=""), "idempotencyKey"),
        (publish_input([f"u{i}" for i in range(10_001)]), "recipients"),
    ],
)
async def test_bad_input_is_refused_and_writes_nothing(api: Api, variables, field) -> None:
    tenant = await make_tenant()

    error = await api.error(PUBLISH, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    watcher = await make_user(api, tenant, "a")
    assert (await api.data(COUNT, token=watcher.token))["unreadCount"] == 0


async def test_publishing_needs_an_api_key(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")

    as_user = await api.error(PUBLISH, publish_input(["alice"]), token=alice.token)
    anonymous = await api.error(PUBLISH, publish_input(["alice"]))

    assert as_user["extensions"]["code"] == "FORBIDDEN"
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.data(COUNT, token=alice.token))["unreadCount"] == 0
