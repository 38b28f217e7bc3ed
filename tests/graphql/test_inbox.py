"""The viewer's inbox: listing, paging, counting, reading and deleting."""

import asyncio
import base64
from typing import Any
from uuid import UUID

import pytest

from app.services import publishing
from tests.helpers import Api, TenantAccess, UserAccess, make_tenant, make_user, publish

LIST = """
query($first: Int, $after: String, $offset: Int, $filter: NotificationFilter) {
  notifications(first: $first, after: $after, offset: $offset, filter: $filter) {
    totalCount unreadCount
    edges { cursor node { id category title body link data isRead readAt createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
COUNTS = """
query($category: String) {
  unreadCount(category: $category)
  notificationStats(category: $category) { total unread read }
}
"""
ONE = "query($id: ID!) { notification(id: $id) { id isRead } }"
MARK_ONE = "mutation($id: ID!) { markNotificationRead(id: $id) }"
SET_READ = """
mutation($id: ID!, $read: Boolean!) {
  setNotificationRead(id: $id, read: $read) { id isRead readAt }
}
"""
MARK_MANY = "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { marked } }"
MARK_ALL = (
    "mutation($category: String) { markAllNotificationsRead(category: $category) { marked } }"
)
DELETE_ONE = "mutation($id: ID!) { deleteNotification(id: $id) }"
DELETE_READ = "mutation { deleteReadNotifications { deleted } }"
UNKNOWN = "00000000-0000-0000-0000-000000000000"


async def inbox(api: Api, user: UserAccess, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await api.data(LIST, variables, token=user.token))["notifications"]
    return result


async def counts(api: Api, user: UserAccess, category: str | None = None) -> dict[str, Any]:
    return await api.data(COUNTS, {"category": category}, token=user.token)


async def given_inbox(
    api: Api, tenant: TenantAccess, user: UserAccess, categories: list[str]
) -> list[str]:
    """Publishes one notification per category, in order; returns their ids oldest first."""
    ids = []
    for i, category in enumerate(categories):
        result = await publish(api, tenant, [user.external_id], category=category, title=f"n{i}")
        ids.append(result["notificationIds"][0])
    return ids


async def given_bulk_inbox(tenant: TenantAccess, user: UserAccess, count: int) -> None:
    draft = publishing.NotificationDraft(category="call.daily_summary", title="bulk")
    for _ in range(count):
        await publishing.publish_notification(
            tenant_id=UUID(tenant.tenant_id), recipients=[user.external_id], draft=draft
        )


# --- listing -------------------------------------------------------------------------------


async def test_lists_the_viewers_notifications_newest_first(api, tenant, alice) -> None:
    ids = await given_inbox(api, tenant, alice, ["billing.low_balance", "agent.failed"])

    page = await inbox(api, alice)

    assert [e["node"]["id"] for e in page["edges"]] == list(reversed(ids))
    assert page["totalCount"] == 2 and page["unreadCount"] == 2
    node = page["edges"][0]["node"]
    assert node["category"] == "agent.failed" and node["isRead"] is False and node["readAt"] is None
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": page["edges"][0]["cursor"],
        "endCursor": page["edges"][-1]["cursor"],
    }


async def test_published_fields_come_back_unchanged(api, tenant, alice) -> None:
    data = {"amount": 12.5, "tags": ["a", "b"], "nested": {"ok": True}}
    await publish(api, tenant, [alice.external_id], title="T", body="B", link="/billing", data=data)

    node = (await inbox(api, alice))["edges"][0]["node"]

    assert (node["title"], node["body"], node["link"], node["data"]) == ("T", "B", "/billing", data)


async def test_an_empty_inbox_has_no_edges_and_no_cursors(api, alice) -> None:
    page = await inbox(api, alice)

    assert page["edges"] == [] and page["totalCount"] == 0
    assert page["pageInfo"]["endCursor"] is None and page["pageInfo"]["hasNextPage"] is False


async def test_filters_by_read_state_and_categories(api, tenant, alice) -> None:
    ids = await given_inbox(
        api, tenant, alice, ["billing.low_balance", "agent.failed", "agent.failed"]
    )
    await api.data(MARK_ONE, {"id": ids[1]}, token=alice.token)

    unread = await inbox(api, alice, filter={"readState": "UNREAD"})
    read = await inbox(api, alice, filter={"readState": "READ"})
    agents = await inbox(api, alice, filter={"categories": ["agent.failed"]})
    unread_agents = await inbox(
        api, alice, filter={"readState": "UNREAD", "categories": ["agent.failed"]}
    )

    assert [e["node"]["id"] for e in unread["edges"]] == [ids[2], ids[0]]
    assert unread["totalCount"] == 2
    assert [e["node"]["id"] for e in read["edges"]] == [ids[1]] and read["totalCount"] == 1
    assert [e["node"]["id"] for e in agents["edges"]] == [ids[2], ids[1]]
    assert agents["totalCount"] == 2
    assert [e["node"]["id"] for e in unread_agents["edges"]] == [ids[2]]
    assert unread_agents["totalCount"] == 1
    assert agents["unreadCount"] == 2  # the viewer's whole unread total, whatever the filter


async def test_default_page_is_fifty_and_first_is_bounded(api, tenant, alice) -> None:
    await given_bulk_inbox(tenant, alice, 51)

    page = await inbox(api, alice)
    too_small = await api.error(LIST, {"first": 0}, token=alice.token)
    too_large = await api.error(LIST, {"first": 201}, token=alice.token)
    largest = await inbox(api, alice, first=200)

    assert len(page["edges"]) == 50 and page["pageInfo"]["hasNextPage"] is True
    assert len(largest["edges"]) == 51
    assert too_small["extensions"]["code"] == "BAD_USER_INPUT"
    assert too_large["extensions"]["code"] == "BAD_USER_INPUT"


async def test_walking_forwards_sees_every_notification_once_while_new_ones_arrive(
    api, tenant, alice
) -> None:
    await given_bulk_inbox(tenant, alice, 500)
    seen: list[str] = []
    after = None
    pages = 0

    while True:
        page = await inbox(api, alice, first=37, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        if pages in (3, 7):  # newer notifications land mid-walk
            await given_bulk_inbox(tenant, alice, 5)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert len(seen) == 500 and len(set(seen)) == 500
    newest_first = await inbox(api, alice, first=200)
    assert newest_first["totalCount"] == 510


async def test_offset_jumps_to_a_page(api, tenant, alice) -> None:
    ids = await given_inbox(api, tenant, alice, ["a.b"] * 5)

    page = await inbox(api, alice, first=2, offset=2)

    assert [e["node"]["id"] for e in page["edges"]] == [ids[2], ids[1]]
    assert page["pageInfo"]["hasPreviousPage"] is True and page["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    "variables",
    [
        {"offset": -1},
        {"after": "not-a-cursor"},
        {"after": base64.urlsafe_b64encode(b"2026-01-01|x").decode()},
        {"after": base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|x").decode(), "offset": 1},
    ],
)
async def test_bad_paging_arguments_are_bad_user_input(api, alice, variables) -> None:
    error = await api.error(LIST, variables, token=alice.token)

    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_one_notification_by_id_only_when_it_is_the_viewers(api, tenant, alice) -> None:
    bob = await make_user(api, tenant, "bob")
    [mine] = await given_inbox(api, tenant, alice, ["a.b"])
    [his] = await given_inbox(api, tenant, bob, ["a.b"])

    assert (await api.data(ONE, {"id": mine}, token=alice.token))["notification"]["id"] == mine
    assert (await api.data(ONE, {"id": his}, token=alice.token))["notification"] is None
    assert (await api.data(ONE, {"id": UNKNOWN}, token=alice.token))["notification"] is None


async def test_asking_for_a_notification_by_what_is_not_an_id_is_bad_user_input(api, alice) -> None:
    # Given a viewer
    # When they ask for a notification by something that is not an id
    error = await api.error(ONE, {"id": "<id>"}, token=alice.token)

    # Then the id is named as the mistake
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


# --- counting ------------------------------------------------------------------------------


async def test_stats_and_unread_count_overall_and_per_category(api, tenant, alice) -> None:
    ids = await given_inbox(
        api, tenant, alice, ["billing.low_balance", "agent.failed", "agent.failed"]
    )
    await api.data(MARK_ONE, {"id": ids[1]}, token=alice.token)

    overall = await counts(api, alice)
    agents = await counts(api, alice, "agent.failed")
    unknown = await counts(api, alice, "nothing.here")

    assert overall == {"unreadCount": 2, "notificationStats": {"total": 3, "unread": 2, "read": 1}}
    assert agents == {"unreadCount": 1, "notificationStats": {"total": 2, "unread": 1, "read": 1}}
    assert unknown == {"unreadCount": 0, "notificationStats": {"total": 0, "unread": 0, "read": 0}}


# --- reading -------------------------------------------------------------------------------


async def test_mark_read_is_idempotent_and_ignores_unknown_and_foreign_ids(
    api, tenant, alice
) -> None:
    bob = await make_user(api, tenant, "bob")
    [mine] = await given_inbox(api, tenant, alice, ["a.b"])
    [his] = await given_inbox(api, tenant, bob, ["a.b"])

    results = [
        (await api.data(MARK_ONE, {"id": i}, token=alice.token))["markNotificationRead"]
        for i in (mine, mine, his, UNKNOWN)
    ]

    assert results == [True] * 4
    assert (await counts(api, alice))["unreadCount"] == 0
    assert (await counts(api, bob))["unreadCount"] == 1


async def test_marking_read_what_is_not_an_id_is_bad_user_input_and_marks_nothing(
    api, tenant, alice
) -> None:
    # Given an unread notification
    await given_inbox(api, tenant, alice, ["a.b"])

    # When the viewer marks read something that is not an id, as a placeholder pasted as it is
    error = await api.error(MARK_ONE, {"id": "<id>"}, token=alice.token)

    # Then the id is named as the mistake, and nothing is marked
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert (await counts(api, alice))["unreadCount"] == 1


async def test_set_read_toggles_both_ways(api, tenant, alice) -> None:
    [nid] = await given_inbox(api, tenant, alice, ["a.b"])

    read = await api.data(SET_READ, {"id": nid, "read": True}, token=alice.token)
    again = await api.data(SET_READ, {"id": nid, "read": True}, token=alice.token)
    after_read = await counts(api, alice)
    unread = await api.data(SET_READ, {"id": nid, "read": False}, token=alice.token)

    assert read["setNotificationRead"]["isRead"] is True
    assert read["setNotificationRead"]["readAt"] is not None
    assert again["setNotificationRead"]["readAt"] == read["setNotificationRead"]["readAt"]
    assert after_read["unreadCount"] == 0
    assert unread["setNotificationRead"] == {"id": nid, "isRead": False, "readAt": None}
    assert (await counts(api, alice))["unreadCount"] == 1


async def test_set_read_is_not_found_for_foreign_deleted_or_unknown_ids(api, tenant, alice) -> None:
    bob = await make_user(api, tenant, "bob")
    [his] = await given_inbox(api, tenant, bob, ["a.b"])
    [deleted] = await given_inbox(api, tenant, alice, ["a.b"])
    await api.data(DELETE_ONE, {"id": deleted}, token=alice.token)

    for nid in (his, deleted, "00000000-0000-0000-0000-000000000000", "junk"):
        error = await api.error(SET_READ, {"id": nid, "read": True}, token=alice.token)
        assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await counts(api, bob))["unreadCount"] == 1


async def test_mark_many_marks_only_the_unread_listed_ids(api, tenant, alice) -> None:
    ids = await given_inbox(api, tenant, alice, ["a.b", "a.b", "c.d", "c.d"])
    await api.data(MARK_ONE, {"id": ids[0]}, token=alice.token)

    result = await api.data(MARK_MANY, {"ids": ids[:3]}, token=alice.token)

    assert result["markNotificationsRead"]["marked"] == 2
    unread = await inbox(api, alice, filter={"readState": "UNREAD"})
    assert [e["node"]["id"] for e in unread["edges"]] == [ids[3]]
    assert (await counts(api, alice, "c.d"))["unreadCount"] == 1


async def test_mark_many_rejects_ids_not_the_viewers_and_marks_nothing(api, tenant, alice) -> None:
    bob = await make_user(api, tenant, "bob")
    mine = await given_inbox(api, tenant, alice, ["a.b", "a.b"])
    [his] = await given_inbox(api, tenant, bob, ["a.b"])
    [deleted] = await given_inbox(api, tenant, alice, ["a.b"])
    await api.data(DELETE_ONE, {"id": deleted}, token=alice.token)
    unknown = "00000000-0000-0000-0000-000000000000"

    error = await api.error(
        MARK_MANY, {"ids": [mine[0], his, unknown, "junk", deleted, mine[1]]}, token=alice.token
    )

    assert error["extensions"]["code"] == "INVALID_NOTIFICATION_IDS"
    assert error["extensions"]["invalidIds"] == [his, unknown, "junk", deleted]
    assert (await counts(api, alice))["unreadCount"] == 2
    assert (await counts(api, bob))["unreadCount"] == 1


async def test_mark_many_with_no_ids_marks_everything(api, tenant, alice) -> None:
    await given_inbox(api, tenant, alice, ["a.b", "c.d"])

    result = await api.data(MARK_MANY, {"ids": []}, token=alice.token)

    assert result["markNotificationsRead"]["marked"] == 2
    assert (await counts(api, alice))["unreadCount"] == 0


async def test_mark_all_read_returns_how_many_optionally_per_category(api, tenant, alice) -> None:
    await given_inbox(api, tenant, alice, ["a.b", "c.d", "c.d"])

    in_category = await api.data(MARK_ALL, {"category": "c.d"}, token=alice.token)
    unknown = await api.data(MARK_ALL, {"category": "x.y"}, token=alice.token)
    rest = await api.data(MARK_ALL, {}, token=alice.token)
    nothing_left = await api.data(MARK_ALL, {}, token=alice.token)

    assert in_category["markAllNotificationsRead"]["marked"] == 2
    assert unknown["markAllNotificationsRead"]["marked"] == 0
    assert rest["markAllNotificationsRead"]["marked"] == 1
    assert nothing_left["markAllNotificationsRead"]["marked"] == 0
    assert (await counts(api, alice))["notificationStats"] == {"total": 3, "unread": 0, "read": 3}


# --- deleting ------------------------------------------------------------------------------


async def test_delete_hides_at_once_from_lists_and_counts_and_is_idempotent(
    api, tenant, alice
) -> None:
    ids = await given_inbox(api, tenant, alice, ["a.b", "a.b"])

    first = await api.data(DELETE_ONE, {"id": ids[0]}, token=alice.token)
    second = await api.data(DELETE_ONE, {"id": ids[0]}, token=alice.token)

    assert first["deleteNotification"] is True and second["deleteNotification"] is True
    page = await inbox(api, alice)
    assert [e["node"]["id"] for e in page["edges"]] == [ids[1]]
    assert (await counts(api, alice))["notificationStats"] == {"total": 1, "unread": 1, "read": 0}
    assert (await api.data(ONE, {"id": ids[0]}, token=alice.token))["notification"] is None


async def test_deleting_someone_elses_notification_is_a_no_op(api, tenant, alice) -> None:
    bob = await make_user(api, tenant, "bob")
    [his] = await given_inbox(api, tenant, bob, ["a.b"])

    result = await api.data(DELETE_ONE, {"id": his}, token=alice.token)

    assert result["deleteNotification"] is True
    assert (await inbox(api, bob))["totalCount"] == 1


async def test_deleting_what_is_not_an_id_is_bad_user_input_and_deletes_nothing(
    api, tenant, alice
) -> None:
    # Given a notification
    await given_inbox(api, tenant, alice, ["a.b"])

    # When the viewer deletes something that is not an id
    error = await api.error(DELETE_ONE, {"id": "not-an-id"}, token=alice.token)

    # Then the id is named as the mistake, and the inbox keeps its notification
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert (await inbox(api, alice))["totalCount"] == 1


async def test_delete_read_removes_only_read_ones(api, tenant, alice) -> None:
    ids = await given_inbox(api, tenant, alice, ["a.b", "c.d", "c.d"])
    await api.data(MARK_MANY, {"ids": ids[:2]}, token=alice.token)

    result = await api.data(DELETE_READ, token=alice.token)
    again = await api.data(DELETE_READ, token=alice.token)

    assert result["deleteReadNotifications"]["deleted"] == 2
    assert again["deleteReadNotifications"]["deleted"] == 0
    assert [e["node"]["id"] for e in (await inbox(api, alice))["edges"]] == [ids[2]]
    assert (await counts(api, alice))["notificationStats"] == {"total": 1, "unread": 1, "read": 0}


# --- who may call --------------------------------------------------------------------------

INBOX_OPERATIONS = [
    ("{ viewer { id } }", {}),
    (LIST, {}),
    (ONE, {"id": "x"}),
    (COUNTS, {}),
    (MARK_ONE, {"id": "x"}),
    (SET_READ, {"id": "x", "read": True}),
    (MARK_MANY, {"ids": []}),
    (MARK_ALL, {}),
    (DELETE_ONE, {"id": "x"}),
    (DELETE_READ, {}),
]


@pytest.mark.parametrize(("query", "variables"), INBOX_OPERATIONS)
async def test_inbox_operations_are_forbidden_to_api_keys(api, tenant, query, variables) -> None:
    body = await api.call(query, variables, token=tenant.api_key)

    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


@pytest.mark.parametrize(("query", "variables"), INBOX_OPERATIONS)
async def test_inbox_operations_need_a_token(api, query, variables) -> None:
    body = await api.call(query, variables)

    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}


async def test_another_tenants_notifications_are_invisible_and_untouchable(
    api, tenant, alice
) -> None:
    other = await make_tenant("Other")
    intruder = await make_user(api, other, "alice")  # same external id, other tenant
    ids = await given_inbox(api, tenant, alice, ["a.b", "a.b"])

    seen = await inbox(api, intruder)
    one = await api.data(ONE, {"id": ids[0]}, token=intruder.token)
    await api.data(MARK_ONE, {"id": ids[0]}, token=intruder.token)
    await api.data(DELETE_ONE, {"id": ids[1]}, token=intruder.token)
    toggle = await api.error(SET_READ, {"id": ids[0], "read": True}, token=intruder.token)
    many = await api.error(MARK_MANY, {"ids": ids}, token=intruder.token)
    await api.data(MARK_ALL, {}, token=intruder.token)
    await api.data(DELETE_READ, token=intruder.token)

    assert seen["totalCount"] == 0 and seen["edges"] == [] and one["notification"] is None
    assert toggle["extensions"]["code"] == "NOT_FOUND"
    assert many["extensions"]["invalidIds"] == ids
    assert (await counts(api, alice))["notificationStats"] == {"total": 2, "unread": 2, "read": 0}


# --- counters stay exact -------------------------------------------------------------------


async def test_counts_match_the_rows_after_racing_changes(api, tenant, alice) -> None:
    ids = await given_inbox(api, tenant, alice, ["a.b", "c.d"] * 10)

    await asyncio.gather(
        *[api.data(MARK_ONE, {"id": i}, token=alice.token) for i in ids[:8] * 2],
        *[api.data(DELETE_ONE, {"id": i}, token=alice.token) for i in ids[4:12] * 2],
        *[api.data(SET_READ, {"id": i, "read": False}, token=alice.token) for i in ids[:2]],
        api.data(MARK_ALL, {"category": "c.d"}, token=alice.token),
    )

    listed = (await inbox(api, alice, first=200))["edges"]
    stats = (await counts(api, alice))["notificationStats"]
    unread_rows = sum(1 for e in listed if not e["node"]["isRead"])
    assert stats == {"total": len(listed), "unread": unread_rows, "read": len(listed) - unread_rows}
    for category in ("a.b", "c.d"):
        in_category = [e for e in listed if e["node"]["category"] == category]
        assert (await counts(api, alice, category))["notificationStats"]["total"] == len(
            in_category
        )


# --- what a filter may name ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (LIST, {"filter": {"categories": ["a.b", "x" * 101]}}, "categories"),
        ("query($c: String) { unreadCount(category: $c) }", {"c": "x" * 101}, "category"),
        (COUNTS, {"category": "x" * 101}, "category"),
        (MARK_ALL, {"category": "x" * 101}, "category"),
    ],
)
async def test_a_category_longer_than_any_stored_one_is_bad_user_input(
    api, alice, query, variables, field
) -> None:
    body = await api.call(query, variables, token=alice.token)

    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert {e["extensions"]["field"] for e in body["errors"]} == {field}
