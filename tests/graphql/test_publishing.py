"""Producers publish with an API key; each recipient gets their own copy."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.models import ScheduledNotification
from tests.helpers import (
    PUBLISH,
    Api,
    TenantAccess,
    UserAccess,
    make_tenant,
    make_user,
    publish,
)

COUNT = "{ unreadCount }"
USERS = "query { viewer { externalId role } }"


PUBLISH_EVENT = "mutation($input: PublishEventInput!) { publishEvent(input: $input) { count } }"


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def raw_body(query: str, variables_json: str) -> str:
    """A request whose variables are written by hand, so they can hold what json.dumps
    writes only when asked: NaN and Infinity."""
    return f'{{"query": {json.dumps(query)}, "variables": {variables_json}}}'


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
        (publish_input(["a"], data={"blob": "x" * 70_000}), "data"),
        (publish_input(["a"], data=nested(33)), "data"),
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


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_numbers_in_data_are_refused(api: Api, number: str) -> None:
    tenant = await make_tenant()
    variables = (
        '{"input": {"recipients": ["a"], "category": "a.b", "title": "T", '
        f'"data": {{"price": {{"amount": {number}}}}}}}}}'
    )

    response = await api.raw(raw_body(PUBLISH, variables), token=tenant.api_key)

    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "data"}
    assert "data.price.amount" in error["message"] and number.lstrip("-") in error["message"]


async def test_an_infinite_literal_in_data_is_refused(api: Api) -> None:
    tenant = await make_tenant()
    query = (
        'mutation { publishNotification(input: {recipients: ["a"], category: "a.b", '
        'title: "T", data: {ratio: 1e999}}) { count } }'
    )

    error = await api.error(query, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "data"}


async def test_data_at_the_limits_is_kept(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")
    data = {"deep": nested(31), "blob": "x" * 60_000, "ratio": 1.5}

    await publish(api, tenant, ["alice"], data=data)

    listed = await api.data("{ notifications { edges { node { data } } } }", token=alice.token)
    assert listed["notifications"]["edges"][0]["node"]["data"] == data


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"blob": "' + "x" * 70_000 + '"}', "bytes"),
        (json.dumps(nested(33)), "deeper"),
        ('{"score": NaN}', "NaN"),
    ],
)
async def test_an_event_payload_too_large_deep_or_not_finite_is_refused(
    api: Api, payload: str, message: str
) -> None:
    tenant = await make_tenant()
    variables = f'{{"input": {{"type": "auth.login_failed", "payload": {payload}}}}}'

    response = await api.raw(raw_body(PUBLISH_EVENT, variables), token=tenant.api_key)

    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "payload"}
    assert message in error["message"]


async def test_an_over_long_actor_is_bad_user_input(api: Api) -> None:
    tenant = await make_tenant()
    variables = {"input": {"type": "auth.login_failed", "actor": "x" * 201}}

    error = await api.error(PUBLISH_EVENT, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "actor"}


@pytest.mark.parametrize("value", ["words", "5", '{"a": 1}'])
async def test_data_or_a_payload_that_is_a_bare_string_is_refused(api: Api, value: str) -> None:
    # given a tenant; when it sends a bare string as a notification's data or an event's payload
    tenant = await make_tenant()
    notification = {"recipients": ["a"], "category": "a.b", "title": "T", "data": value}
    event = {"type": "auth.login_failed", "payload": value}

    as_data = await api.error(PUBLISH, {"input": notification}, token=tenant.api_key)
    as_payload = await api.error(PUBLISH_EVENT, {"input": event}, token=tenant.api_key)

    # then each is refused naming its field: not an unexpected error, nor kept as other JSON
    assert as_data["extensions"] == {"code": "BAD_USER_INPUT", "field": "data"}
    assert as_payload["extensions"] == {"code": "BAD_USER_INPUT", "field": "payload"}


@pytest.mark.parametrize("value", [5, True, [1, "two"], {"text": "words"}])
async def test_data_that_is_any_other_json_is_kept_as_sent(api: Api, value: Any) -> None:
    # given a notification published with data that is not an object
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")

    await publish(api, tenant, ["alice"], data=value)

    # then it reads back as sent
    listed = await api.data("{ notifications { edges { node { data } } } }", token=alice.token)
    assert listed["notifications"]["edges"][0]["node"]["data"] == value


UNSAFE = ["javascript:alert(document.domain)", "data:text/html,<b>hi</b>", "//evil.example/x"]


@pytest.mark.parametrize("link", UNSAFE)
async def test_an_unsafe_link_is_refused_and_nothing_is_written(
    api: Api, tenant: TenantAccess, alice: UserAccess, link: str
) -> None:
    # Given a link a browser would follow to script, data or another site
    # When it is published, now or for later
    now = await api.error(PUBLISH, publish_input(["alice"], link=link), token=tenant.api_key)
    later = await api.error(
        PUBLISH,
        publish_input(
            ["alice"], link=link, sendAt=(datetime.now(UTC) + timedelta(hours=1)).isoformat()
        ),
        token=tenant.api_key,
    )

    # Then both are refused naming the link, and alice has nothing, now or to come
    assert now["extensions"] == later["extensions"] == {"code": "BAD_USER_INPUT", "field": "link"}
    assert (await api.data(COUNT, token=alice.token))["unreadCount"] == 0
    assert not await ScheduledNotification.exists(tenant_id=tenant.tenant_id)


async def test_an_unsafe_button_url_is_refused_naming_the_button(
    api: Api, tenant: TenantAccess, alice: UserAccess
) -> None:
    # Given two buttons, the second with a javascript: url
    actions = [
        {"id": "open", "label": "Open", "url": "https://app.example/calls/1"},
        {"id": "run", "label": "Run", "url": "javascript:alert(document.domain)"},
    ]

    # When they are published
    error = await api.error(
        PUBLISH, publish_input(["alice"], actions=actions), token=tenant.api_key
    )

    # Then the publish is refused naming that button's url, and nothing is written
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "actions[1].url"}
    assert (await api.data(COUNT, token=alice.token))["unreadCount"] == 0


async def test_an_absolute_web_link_and_a_path_are_kept_as_sent(
    api: Api, tenant: TenantAccess, alice: UserAccess
) -> None:
    # Given a notification linking to another site, with a button linking to a path here
    link = "https://app.example/billing?tab=1#due"
    actions = [{"id": "open", "label": "Open", "url": "/calls/1"}]

    # When it is published
    await publish(api, tenant, ["alice"], link=link, actions=actions)

    # Then both read back as sent
    listed = await api.data(
        "{ notifications { edges { node { link actions { url } } } } }", token=alice.token
    )
    assert listed["notifications"]["edges"][0]["node"] == {
        "link": link,
        "actions": [{"url": "/calls/1"}],
    }
