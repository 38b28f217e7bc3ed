"""Seen and archived, beside read: the badges, the lists and the counters behind them."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from app.db import bulk_insert, connection, new_ids
from app.models import Notification, NotificationRow, Priority, User
from app.services import inbox_clock
from tests.graphql.test_inbox import given_inbox, inbox
from tests.helpers import (
    PUBLISH,
    Api,
    TenantAccess,
    UserAccess,
    make_user,
    postgres_session,
    publish,
    waiting_for_locks,
)

STATS = """
query($category: String) {
  unreadCount(category: $category)
  unseenCount(category: $category)
  notificationStats(category: $category) { total unread read unseen archived }
}
"""
STATE = "query($id: ID!) { notification(id: $id) { isRead isSeen seenAt isArchived archivedAt } }"
SEEN = "mutation($ids: [ID!]!) { markNotificationsSeen(ids: $ids) { marked } }"
SET_READ = (
    "mutation($id: ID!, $read: Boolean!) { setNotificationRead(id: $id, read: $read) { id } }"
)
MARK_ALL = "mutation { markAllNotificationsRead { marked } }"
ARCHIVE = "mutation($id: ID!) { archiveNotification(id: $id) { id isArchived isSeen isRead } }"
UNARCHIVE = "mutation($id: ID!) { unarchiveNotification(id: $id) { id isArchived } }"
ARCHIVE_READ = "mutation { archiveReadNotifications { marked } }"
DELETE_READ = "mutation { deleteReadNotifications { deleted } }"


async def stats(api: Api, user: UserAccess, category: str | None = None) -> dict[str, Any]:
    return await api.data(STATS, {"category": category}, token=user.token)


async def state(api: Api, user: UserAccess, nid: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(STATE, {"id": nid}, token=user.token))["notification"]
    return found


def listed_ids(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


# --- seen --------------------------------------------------------------------------------------


async def test_a_new_notification_is_unseen_until_marked_seen(api, tenant, alice) -> None:
    # given two new notifications
    first, second = await given_inbox(api, tenant, alice, ["a.b", "c.d"])
    before = await stats(api, alice)

    # when one is marked seen
    marked = await api.data(SEEN, {"ids": [first]}, token=alice.token)

    # then it is seen but still unread, and only the unseen badge moved
    assert before["unseenCount"] == 2
    assert marked["markNotificationsSeen"] == {"marked": 1}
    seen = await state(api, alice, first)
    assert (seen["isSeen"], seen["isRead"], seen["seenAt"] is not None) == (True, False, True)
    after = await stats(api, alice)
    assert (after["unreadCount"], after["unseenCount"]) == (2, 1)
    assert (await stats(api, alice, "c.d"))["unseenCount"] == 1
    # and marking it again counts nothing twice
    again = await api.data(SEEN, {"ids": [first]}, token=alice.token)
    assert again["markNotificationsSeen"] == {"marked": 0}
    assert (await stats(api, alice))["unseenCount"] == 1
    assert (await state(api, alice, second))["isSeen"] is False


async def test_an_empty_list_marks_every_notification_seen(api, tenant, alice) -> None:
    await given_inbox(api, tenant, alice, ["a.b", "a.b", "c.d"])

    marked = await api.data(SEEN, {"ids": []}, token=alice.token)

    assert marked["markNotificationsSeen"] == {"marked": 3}
    counts = await stats(api, alice)
    assert (counts["unseenCount"], counts["unreadCount"]) == (0, 3)


async def test_reading_marks_seen_and_unreading_does_not_unsee(api, tenant, alice) -> None:
    [nid] = await given_inbox(api, tenant, alice, ["a.b"])

    await api.data(SET_READ, {"id": nid, "read": True}, token=alice.token)
    read = await stats(api, alice)
    await api.data(SET_READ, {"id": nid, "read": False}, token=alice.token)

    assert (read["unreadCount"], read["unseenCount"]) == (0, 0)
    after = await stats(api, alice)
    assert (after["unreadCount"], after["unseenCount"]) == (1, 0)
    assert (await state(api, alice, nid))["isSeen"] is True


async def test_marking_another_users_notification_seen_marks_nothing(api, tenant, alice) -> None:
    bob = await make_user(api, tenant, "bob")
    [mine] = await given_inbox(api, tenant, alice, ["a.b"])
    [theirs] = await given_inbox(api, tenant, bob, ["a.b"])

    body = await api.call(SEEN, {"ids": [mine, theirs, "nope"]}, token=alice.token)

    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_NOTIFICATION_IDS"  # as for read
    assert error["extensions"]["invalidIds"] == [theirs, "nope"]
    assert (await stats(api, alice))["unseenCount"] == 1  # all or nothing
    assert (await stats(api, bob))["unseenCount"] == 1


# --- archived ----------------------------------------------------------------------------------


async def test_an_archived_notification_leaves_the_inbox_and_its_badges(api, tenant, alice) -> None:
    # given three unread notifications
    old, middle, new = await given_inbox(api, tenant, alice, ["a.b", "a.b", "c.d"])

    # when the middle one is archived
    archived = await api.data(ARCHIVE, {"id": middle}, token=alice.token)

    # then it is archived and seen, still unread, and out of the inbox and both badges
    assert archived["archiveNotification"] == {
        "id": middle,
        "isArchived": True,
        "isSeen": True,
        "isRead": False,
    }
    assert listed_ids(await inbox(api, alice)) == [new, old]
    counts = await stats(api, alice)
    assert (counts["unreadCount"], counts["unseenCount"]) == (2, 2)
    assert counts["notificationStats"] == {
        "total": 2,
        "unread": 2,
        "read": 0,
        "unseen": 2,
        "archived": 1,
    }
    # and the archive lists it, with counts that match the lists
    only = await inbox(api, alice, filter={"archived": "ONLY"})
    both = await inbox(api, alice, filter={"archived": "INCLUDE"})
    unread_archive = await inbox(api, alice, filter={"archived": "ONLY", "readState": "UNREAD"})
    assert (listed_ids(only), only["totalCount"]) == ([middle], 1)
    assert (listed_ids(both), both["totalCount"]) == ([new, middle, old], 3)
    assert unread_archive["totalCount"] == 1


async def test_unarchiving_brings_it_back_as_it_was(api, tenant, alice) -> None:
    [nid] = await given_inbox(api, tenant, alice, ["a.b"])
    await api.data(ARCHIVE, {"id": nid}, token=alice.token)

    back = await api.data(UNARCHIVE, {"id": nid}, token=alice.token)

    assert back["unarchiveNotification"] == {"id": nid, "isArchived": False}
    counts = await stats(api, alice)
    assert counts["notificationStats"]["archived"] == 0
    assert (counts["unreadCount"], counts["unseenCount"]) == (1, 0)  # seen when archived
    assert listed_ids(await inbox(api, alice)) == [nid]


async def test_archiving_twice_counts_once(api, tenant, alice) -> None:
    [nid] = await given_inbox(api, tenant, alice, ["a.b"])

    await api.data(ARCHIVE, {"id": nid}, token=alice.token)
    again = await api.data(ARCHIVE, {"id": nid}, token=alice.token)

    assert again["archiveNotification"]["isArchived"] is True
    assert (await stats(api, alice))["notificationStats"]["archived"] == 1


@pytest.mark.parametrize("mutation", [ARCHIVE, UNARCHIVE])
async def test_archiving_a_foreign_or_unknown_notification_is_not_found(
    api, tenant, alice, mutation
) -> None:
    bob = await make_user(api, tenant, "bob")
    [theirs] = await given_inbox(api, tenant, bob, ["a.b"])

    for nid in (theirs, "00000000-0000-0000-0000-000000000000", "nope"):
        body = await api.call(mutation, {"id": nid}, token=alice.token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], nid
    assert (await stats(api, bob))["notificationStats"]["archived"] == 0


async def test_archive_read_moves_only_the_read_ones(api, tenant, alice) -> None:
    ids = await given_inbox(api, tenant, alice, ["a.b", "c.d", "c.d"])
    for nid in ids[:2]:
        await api.data(SET_READ, {"id": nid, "read": True}, token=alice.token)

    moved = await api.data(ARCHIVE_READ, token=alice.token)

    assert moved["archiveReadNotifications"] == {"marked": 2}
    assert listed_ids(await inbox(api, alice)) == [ids[2]]
    assert (await stats(api, alice))["notificationStats"] == {
        "total": 1,
        "unread": 1,
        "read": 0,
        "unseen": 1,
        "archived": 2,
    }


async def test_mark_all_read_leaves_the_archive_alone_and_delete_read_empties_both(
    api, tenant, alice
) -> None:
    archived, kept = await given_inbox(api, tenant, alice, ["a.b", "a.b"])
    await api.data(ARCHIVE, {"id": archived}, token=alice.token)

    await api.data(MARK_ALL, token=alice.token)
    unread_archive = await inbox(api, alice, filter={"archived": "ONLY", "readState": "UNREAD"})
    await api.data(SET_READ, {"id": archived, "read": True}, token=alice.token)
    deleted = await api.data(DELETE_READ, token=alice.token)

    assert listed_ids(unread_archive) == [archived]
    assert deleted["deleteReadNotifications"] == {"deleted": 2}
    assert (await stats(api, alice))["notificationStats"] == {
        "total": 0,
        "unread": 0,
        "read": 0,
        "unseen": 0,
        "archived": 0,
    }
    assert kept not in listed_ids(await inbox(api, alice, filter={"archived": "INCLUDE"}))


# --- counters stay exact -------------------------------------------------------------------


async def counted_rows(user: UserAccess) -> dict[str, int]:
    """The counters' figures, counted from the rows themselves."""
    [row] = await connection().execute_query_dict(
        "SELECT "
        "SUM(CASE WHEN archived_at IS NULL THEN 1 ELSE 0 END) AS total, "
        "SUM(CASE WHEN archived_at IS NULL AND read_at IS NULL THEN 1 ELSE 0 END) AS unread, "
        "SUM(CASE WHEN archived_at IS NULL AND seen_at IS NULL THEN 1 ELSE 0 END) AS unseen, "
        "SUM(CASE WHEN archived_at IS NOT NULL THEN 1 ELSE 0 END) AS archived "
        "FROM notifications n JOIN users u ON u.id = n.recipient_id "
        "WHERE u.external_id = $1 AND n.deleted_at IS NULL".replace("$1", _mark()),
        [user.external_id],
    )
    return {name: int(value or 0) for name, value in row.items()}


def _mark() -> str:
    return "$1" if connection().capabilities.dialect == "postgres" else "?"


async def test_two_tabs_archiving_and_reading_at_once_leave_the_counters_exact(
    api, tenant, alice
) -> None:
    # given a dozen notifications in two categories
    ids = await given_inbox(api, tenant, alice, ["a.b", "c.d"] * 6)

    # when two tabs archive, read, see and unarchive the same ones at once
    def tab() -> list[Any]:
        return [
            *[api.data(ARCHIVE, {"id": i}, token=alice.token) for i in ids[:8]],
            *[api.data(SET_READ, {"id": i, "read": True}, token=alice.token) for i in ids[4:10]],
            api.data(SEEN, {"ids": ids[6:]}, token=alice.token),
            *[api.data(UNARCHIVE, {"id": i}, token=alice.token) for i in ids[:2]],
            api.data(ARCHIVE_READ, token=alice.token),
            api.data(MARK_ALL, token=alice.token),
        ]

    await asyncio.gather(*tab(), *tab())

    # then the counters say what counting the rows says
    counts = (await stats(api, alice))["notificationStats"]
    rows = await counted_rows(alice)
    assert {k: counts[k] for k in rows} == rows
    assert counts["read"] == counts["total"] - counts["unread"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no row locks
async def test_a_change_to_all_and_a_change_to_some_take_turns(
    api, tenant, alice, database_url
) -> None:
    # given, oldest first: one in a.b, then x in c.d, then y in a.b (ids grow with time)
    _, x, y = await given_inbox(api, tenant, alice, ["a.b", "c.d", "a.b"])
    many = "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { marked } }"
    async with postgres_session(database_url) as holder:
        # and x held by someone else for a moment
        hold = holder.transaction()
        await hold.start()
        await holder.execute("SELECT id FROM notifications WHERE id = $1 FOR UPDATE", UUID(x))

        # when reading x and y waits for x, and then marking all seen (a.b first) does too
        some = asyncio.create_task(api.call(many, {"ids": [x, y]}, token=alice.token))
        await waiting_for_locks(holder, 1)
        every = asyncio.create_task(api.call(SEEN, {"ids": []}, token=alice.token))
        await waiting_for_locks(holder, 2)
        await hold.rollback()
        results = await asyncio.gather(some, every)

    # then neither failed (locking y before x would deadlock with the one that has x)
    assert [r.get("errors") for r in results] == [None, None]
    counts = (await stats(api, alice))["notificationStats"]
    rows = await counted_rows(alice)
    assert {k: counts[k] for k in rows} == rows == {**rows, "unread": 1, "unseen": 0}


async def test_publishing_counts_a_new_notification_unseen(api, tenant, alice) -> None:
    await publish(api, tenant, ["alice"], category="a.b")
    await publish(api, tenant, ["alice"], category="c.d")

    assert await counted_rows(alice) == {"total": 2, "unread": 2, "unseen": 2, "archived": 0}
    assert (await stats(api, alice))["unseenCount"] == 2


# --- priority and actions ----------------------------------------------------------------------

ORDERED = """
query($first: Int, $after: String, $filter: NotificationFilter, $order: NotificationOrder) {
  notifications(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount
    edges { cursor node { id title priority } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
DETAIL = """
query($id: ID!) {
  notification(id: $id) { priority actions { id label url primary } isRead interactedAt }
}
"""
ACT = """
mutation($id: ID!, $action: String!) {
  recordNotificationAction(id: $id, actionId: $action) { id isRead isSeen interactedAt }
}
"""
BUTTONS = [
    {"id": "approve", "label": "Approve", "primary": True},
    {"id": "open", "label": "Open", "url": "/calls/1"},
]


async def test_a_notification_carries_its_priority_and_actions(api, tenant, alice) -> None:
    [plain] = (await publish(api, tenant, ["alice"]))["notificationIds"]
    [urgent] = (await publish(api, tenant, ["alice"], priority="URGENT", actions=BUTTONS))[
        "notificationIds"
    ]

    plain_one = (await api.data(DETAIL, {"id": plain}, token=alice.token))["notification"]
    urgent_one = (await api.data(DETAIL, {"id": urgent}, token=alice.token))["notification"]

    assert (plain_one["priority"], plain_one["actions"]) == ("NORMAL", [])
    assert urgent_one["priority"] == "URGENT"
    assert urgent_one["actions"] == [
        {"id": "approve", "label": "Approve", "url": None, "primary": True},
        {"id": "open", "label": "Open", "url": "/calls/1", "primary": False},
    ]


@pytest.mark.parametrize(
    ("actions", "field"),
    [
        ([{"id": f"a{i}", "label": "x"} for i in range(4)], "actions"),
        ([{"id": "a", "label": "x"}, {"id": "a", "label": "y"}], "actions[1].id"),
        ([{"id": "a", "label": " "}], "actions[0].label"),
        ([{"id": "b", "label": "x"}, {"id": "", "label": "x"}], "actions[1].id"),
        ([{"id": "a", "label": "x", "url": "/" + "x" * 2048}], "actions[0].url"),
    ],
    ids=["four", "same-id", "no-label", "no-id", "long-url"],
)
async def test_bad_actions_are_refused_and_nothing_is_written(
    api, tenant, alice, actions, field
) -> None:
    variables = {
        "input": {"recipients": ["alice"], "category": "a.b", "title": "t", "actions": actions}
    }

    body = await api.call(PUBLISH, variables, token=tenant.api_key)

    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert (await stats(api, alice))["notificationStats"]["total"] == 0


async def test_taking_an_action_marks_it_read_and_interacted(api, tenant, alice) -> None:
    [nid] = (await publish(api, tenant, ["alice"], actions=BUTTONS))["notificationIds"]

    taken = (await api.data(ACT, {"id": nid, "action": "approve"}, token=alice.token))[
        "recordNotificationAction"
    ]

    assert (taken["isRead"], taken["isSeen"], taken["interactedAt"] is not None) == (
        True,
        True,
        True,
    )
    counts = await stats(api, alice)
    assert (counts["unreadCount"], counts["unseenCount"]) == (0, 0)


async def test_an_unknown_action_or_someone_elses_notification_is_refused(
    api, tenant, alice
) -> None:
    bob = await make_user(api, tenant, "bob")
    [nid] = (await publish(api, tenant, ["alice"], actions=BUTTONS))["notificationIds"]

    unknown = await api.call(ACT, {"id": nid, "action": "delete"}, token=alice.token)
    foreign = await api.call(ACT, {"id": nid, "action": "approve"}, token=bob.token)

    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await stats(api, alice))["unreadCount"] == 1  # neither changed it


async def given_priorities(tenant: TenantAccess, user: UserAccess, priorities: str) -> None:
    """Notifications with these priorities (L, N, H, U), all made at the same instant."""
    owner = await User.get(tenant_id=tenant.tenant_id, external_id=user.external_id)
    now = datetime.now(UTC)
    letters = {"L": Priority.LOW, "N": Priority.NORMAL, "H": Priority.HIGH, "U": Priority.URGENT}
    rows = [
        NotificationRow(
            id=nid,
            tenant_id=owner.tenant_id,
            recipient_id=owner.id,
            category="a.b",
            title=f"{letter}{i}",
            priority=letters[letter],
            created_at=now,
        )
        for i, (letter, nid) in enumerate(zip(priorities, new_ids(len(priorities)), strict=True))
    ]
    await bulk_insert(Notification, rows)


async def every_page(api: Api, user: UserAccess, **variables: Any) -> list[dict[str, Any]]:
    nodes, after = [], None
    while True:
        page = (
            await api.data(ORDERED, {**variables, "first": 2, "after": after}, token=user.token)
        )["notifications"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_paging_by_priority_with_equal_times_lists_each_once_in_order(
    api, tenant, alice
) -> None:
    # given eleven notifications of mixed priorities, all made at the same instant
    await given_priorities(tenant, alice, "NLHUNNHLUNL")

    # when the inbox is paged two at a time by priority
    nodes = await every_page(api, alice, order="PRIORITY")

    # then every notification comes once, highest priority first, ties in id order (newest)
    assert sorted(n["title"] for n in nodes) == sorted(
        f"{c}{i}" for i, c in enumerate("NLHUNNHLUNL")
    )
    rank = {"URGENT": 3, "HIGH": 2, "NORMAL": 1, "LOW": 0}
    assert [rank[n["priority"]] for n in nodes] == sorted(
        (rank[n["priority"]] for n in nodes), reverse=True
    )
    for priority in rank:
        same = [n["id"] for n in nodes if n["priority"] == priority]
        assert same == sorted(same, reverse=True)


async def test_the_priority_filter_and_a_cursor_of_the_other_order(api, tenant, alice) -> None:
    await given_priorities(tenant, alice, "LNHU")

    high = await every_page(api, alice, filter={"priorities": ["HIGH", "URGENT"]})
    first = (await api.data(ORDERED, {"first": 1}, token=alice.token))["notifications"]
    crossed = await api.call(
        ORDERED,
        {"first": 1, "after": first["pageInfo"]["endCursor"], "order": "PRIORITY"},
        token=alice.token,
    )

    assert sorted(n["priority"] for n in high) == ["HIGH", "URGENT"]
    assert crossed["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- tags --------------------------------------------------------------------------------------

TAGGED = """
query($tags: [String!], $priorities: [Priority!]) {
  notifications(filter: {tags: $tags, priorities: $priorities}) {
    totalCount edges { node { title tags } }
  }
}
"""


async def test_the_inbox_lists_notifications_with_any_of_the_tags(api, tenant, alice) -> None:
    # given notifications tagged differently, one to another user
    bob = await make_user(api, tenant, "bob")
    await publish(api, tenant, ["alice"], title="calls", tags=["calls", "weekly"])
    await publish(api, tenant, ["alice"], title="billing", tags=["billing", " billing "])
    await publish(api, tenant, ["alice"], title="plain")
    await publish(api, tenant, ["bob"], title="bob's calls", tags=["calls"])

    # when the inbox asks for either of two tags
    found = (await api.data(TAGGED, {"tags": ["calls", "billing"]}, token=alice.token))[
        "notifications"
    ]
    weekly_high = (
        await api.data(TAGGED, {"tags": ["weekly"], "priorities": ["HIGH"]}, token=alice.token)
    )["notifications"]

    # then it gets both tagged ones, each once, with their tags (repeats folded), and counts them
    assert sorted((e["node"]["title"], tuple(e["node"]["tags"])) for e in found["edges"]) == [
        ("billing", ("billing",)),
        ("calls", ("calls", "weekly")),
    ]
    assert found["totalCount"] == 2
    assert (weekly_high["edges"], weekly_high["totalCount"]) == ([], 0)
    assert (await api.data(TAGGED, {"tags": ["calls"]}, token=bob.token))["notifications"][
        "totalCount"
    ] == 1


@pytest.mark.parametrize(
    "tags", [[f"t{i}" for i in range(11)], ["x" * 51], [" "]], ids=["eleven", "long", "blank"]
)
async def test_bad_tags_are_refused_in_a_publish_and_in_a_filter(api, tenant, alice, tags) -> None:
    variables = {"input": {"recipients": ["alice"], "category": "a.b", "title": "t", "tags": tags}}

    published = await api.call(PUBLISH, variables, token=tenant.api_key)
    listed = await api.call(TAGGED, {"tags": tags}, token=alice.token)

    for body in (published, listed):
        [error] = body["errors"]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            "tags",
        )
    assert (await stats(api, alice))["notificationStats"]["total"] == 0


# --- snoozed and expired -----------------------------------------------------------------------

SNOOZE = """
mutation($id: ID!, $until: DateTime!) {
  snoozeNotification(id: $id, until: $until) { id snoozedUntil }
}
"""
UNSNOOZE = "mutation($id: ID!) { unsnoozeNotification(id: $id) { id snoozedUntil } }"


def from_now(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def come_due(column: str, nid: str) -> None:
    """The notification's snooze or expiry time passes (the API takes only future ones)."""
    await Notification.filter(id=nid).update(**{column: datetime.now(UTC) - timedelta(seconds=1)})


async def test_a_snoozed_notification_leaves_the_inbox_until_unsnoozed(api, tenant, alice) -> None:
    kept, snoozed = await given_inbox(api, tenant, alice, ["a.b", "c.d"])

    done = await api.data(SNOOZE, {"id": snoozed, "until": from_now(hours=1)}, token=alice.token)
    hidden = await inbox(api, alice)
    listed = await inbox(api, alice, filter={"snoozed": True})
    counts = await stats(api, alice)
    await api.data(UNSNOOZE, {"id": snoozed}, token=alice.token)

    assert done["snoozeNotification"]["snoozedUntil"] is not None
    assert (listed_ids(hidden), hidden["totalCount"]) == ([kept], 1)
    assert (listed_ids(listed), listed["totalCount"]) == ([snoozed], 1)
    assert (counts["unreadCount"], counts["unseenCount"]) == (1, 1)
    back = await stats(api, alice)
    assert (back["unreadCount"], back["unseenCount"]) == (2, 2)
    assert listed_ids(await inbox(api, alice)) == [snoozed, kept]


@pytest.mark.parametrize("until", [{"seconds": 30}, {"days": 91}, {"hours": -1}])
async def test_a_snooze_is_one_minute_to_ninety_days_ahead(api, tenant, alice, until) -> None:
    [nid] = await given_inbox(api, tenant, alice, ["a.b"])

    body = await api.call(SNOOZE, {"id": nid, "until": from_now(**until)}, token=alice.token)

    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "until",
    )
    assert (await stats(api, alice))["unreadCount"] == 1


async def test_an_archived_notification_is_not_snoozed(api, tenant, alice) -> None:
    [nid] = await given_inbox(api, tenant, alice, ["a.b"])
    await api.data(ARCHIVE, {"id": nid}, token=alice.token)

    body = await api.call(SNOOZE, {"id": nid, "until": from_now(hours=1)}, token=alice.token)

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await stats(api, alice))["notificationStats"]["archived"] == 1


async def test_the_clock_brings_each_snoozed_one_back_once_however_many_run(
    api, tenant, alice
) -> None:
    # given a dozen users, each with a snoozed notification whose time has come
    users = [alice, *[await make_user(api, tenant, f"u{i}") for i in range(11)]]
    for user in users:
        [nid] = await given_inbox(api, tenant, user, ["a.b"])
        await api.data(SNOOZE, {"id": nid, "until": from_now(hours=1)}, token=user.token)
        await come_due("snoozed_until", nid)

    # when four workers' clocks run at once
    runs = await asyncio.gather(*(inbox_clock.run_once() for _ in range(4)))

    # then each notification came back once, and each badge counts it once
    assert sum(run["resurfaced"] for run in runs) == len(users)
    for user in users:
        assert await counted_rows(user) == {"total": 1, "unread": 1, "unseen": 1, "archived": 0}
        assert (await stats(api, user))["unreadCount"] == 1


async def test_an_expired_notification_is_hidden_at_once_and_then_leaves_the_badges(
    api, tenant, alice
) -> None:
    # given a notification that expires, and one that does not
    [expiring] = (await publish(api, tenant, ["alice"], expiresAt=from_now(hours=1)))[
        "notificationIds"
    ]
    [kept] = await given_inbox(api, tenant, alice, ["a.b"])

    # when its time passes
    await come_due("expires_at", expiring)

    # then lists hide it at once, and the clock takes it out of the badges, once
    assert listed_ids(await inbox(api, alice)) == [kept]
    assert (await api.data(STATE, {"id": expiring}, token=alice.token))["notification"] is None
    runs = await asyncio.gather(inbox_clock.run_once(), inbox_clock.run_once())
    assert sum(run["expired"] for run in runs) == 1
    counts = await stats(api, alice)
    assert (counts["unreadCount"], counts["unseenCount"]) == (1, 1)
    gone = await Notification.get(id=expiring)
    assert gone.deleted_at is not None  # retention erases it with the other deleted ones


async def test_an_expiry_in_the_past_is_refused(api, tenant, alice) -> None:
    variables = {
        "input": {
            "recipients": ["alice"],
            "category": "a.b",
            "title": "t",
            "expiresAt": from_now(seconds=-1),
        }
    }

    body = await api.call(PUBLISH, variables, token=tenant.api_key)

    assert body["errors"][0]["extensions"]["field"] == "expiresAt"


# --- collapsing ------------------------------------------------------------------------------

COLLAPSED = """
query {
  notifications { totalCount edges { node { id title occurrences collapseKey priority } } }
}
"""


async def publish_collapsing(api: Api, tenant: TenantAccess, title: str, **extra: Any) -> str:
    result = await publish(
        api, tenant, ["alice"], category="a.b", title=title, collapseKey="calls", **extra
    )
    nid: str = result["notificationIds"][0]
    return nid


async def test_a_publish_with_a_collapse_key_replaces_the_latest_unread_one(
    api, tenant, alice
) -> None:
    # given an unread notification with a collapse key, and a newer one without
    first = await publish_collapsing(api, tenant, "1 missed call")
    [other] = await given_inbox(api, tenant, alice, ["a.b"])

    # when two more publishes with the key arrive
    second = await publish_collapsing(api, tenant, "2 missed calls")
    third = await publish_collapsing(api, tenant, "3 missed calls")

    # then they went into the first one, which moved to the top, and the badge did not grow
    assert first == second == third
    nodes = [
        e["node"] for e in (await api.data(COLLAPSED, token=alice.token))["notifications"]["edges"]
    ]
    assert [(n["id"], n["title"], n["occurrences"]) for n in nodes] == [
        (first, "3 missed calls", 3),
        (other, "n0", 1),
    ]
    assert (await stats(api, alice))["unreadCount"] == 2
    assert await counted_rows(alice) == {"total": 2, "unread": 2, "unseen": 2, "archived": 0}


async def test_once_read_the_next_publish_with_the_key_starts_a_new_one(api, tenant, alice) -> None:
    first = await publish_collapsing(api, tenant, "1 missed call")
    await api.data(SET_READ, {"id": first, "read": True}, token=alice.token)

    second = await publish_collapsing(api, tenant, "1 missed call")

    assert second != first
    assert (await stats(api, alice))["unreadCount"] == 1


async def test_an_idempotency_key_wins_over_collapsing(api, tenant, alice) -> None:
    first = await publish_collapsing(api, tenant, "1 missed call")
    again = await publish(
        api, tenant, ["alice"], category="a.b", title="2", collapseKey="calls", idempotencyKey="k"
    )
    retried = await publish(
        api, tenant, ["alice"], category="a.b", title="2", collapseKey="calls", idempotencyKey="k"
    )

    assert again["notificationIds"] == [first] and not again["duplicate"]
    assert retried["notificationIds"] == [first] and retried["duplicate"]
    nodes = (await api.data(COLLAPSED, token=alice.token))["notifications"]["edges"]
    assert [e["node"]["occurrences"] for e in nodes] == [2]  # the retry added none


async def test_an_urgent_one_collapsing_into_a_snoozed_one_shows_at_once(
    api, tenant, alice
) -> None:
    first = await publish_collapsing(api, tenant, "1 missed call")
    await api.data(SNOOZE, {"id": first, "until": from_now(hours=1)}, token=alice.token)

    await publish_collapsing(api, tenant, "2 missed calls", priority="NORMAL")
    still_snoozed = await stats(api, alice)
    await publish_collapsing(api, tenant, "3 missed calls", priority="URGENT")

    assert still_snoozed["unreadCount"] == 0
    nodes = [
        e["node"] for e in (await api.data(COLLAPSED, token=alice.token))["notifications"]["edges"]
    ]
    assert [(n["id"], n["occurrences"], n["priority"]) for n in nodes] == [(first, 3, "URGENT")]
    assert await counted_rows(alice) == {"total": 1, "unread": 1, "unseen": 1, "archived": 0}


async def test_concurrent_publishes_with_one_key_collapse_into_one(api, tenant, alice) -> None:
    # given no notification yet; when ten publishes with one key race
    ids = await asyncio.gather(*(publish_collapsing(api, tenant, f"call {i}") for i in range(10)))

    # then there is one notification, which counts every one of them, and a badge of one
    assert len(set(ids)) == 1
    nodes = [
        e["node"] for e in (await api.data(COLLAPSED, token=alice.token))["notifications"]["edges"]
    ]
    assert [n["occurrences"] for n in nodes] == [10]
    assert await counted_rows(alice) == {"total": 1, "unread": 1, "unseen": 1, "archived": 0}
