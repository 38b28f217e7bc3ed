"""Teams: named groups of users that a publish or a rule addresses; each member reached once,
each notification recording the team it came through."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from app import clock as app_clock
from app.services import scheduling
from tests.conftest import Clock, LiveServer
from tests.graphql.test_subscriptions import inbox_event, subscribed
from tests.helpers import (
    PUBLISH,
    Api,
    TenantAccess,
    UserAccess,
    erase_user,
    make_tenant,
    make_user,
    postgres_session,
    publish,
    waiting_for_locks,
)

UPSERT = """
mutation($key: String!, $name: String!) {
  upsertTeam(input: {key: $key, name: $name}) { key name memberCount }
}
"""
MEMBERSHIP = """
mutation($key: String!, $ids: [String!]!) {
  OPERATION(key: $key, externalIds: $ids) { memberCount }
}
"""
DELETE = "mutation($key: String!) { deleteTeam(key: $key) }"
TEAMS = """
query($after: String) {
  teams { key name memberCount
    members(first: 2, after: $after) {
      totalCount edges { node { externalId } } pageInfo { hasNextPage endCursor } } }
}
"""
INBOX = """
query($filter: NotificationFilter) {
  notifications(filter: $filter) { totalCount edges { node { id title team { key name } } } }
}
"""
CREATE_RULE = "mutation($input: RuleInput!) { createRule(input: $input) { id } }"
PUBLISH_EVENT = "mutation($type: String!) { publishEvent(input: {type: $type}) { count } }"
SCHEDULED = "{ scheduledNotifications { edges { node { recipient team { key name } } } } }"
LIVE = "subscription { inbox { kind notification { title team { key name } } } }"


async def team(
    api: Api, tenant: TenantAccess, key: str, members: list[str], name: str = ""
) -> None:
    await api.data(UPSERT, {"key": key, "name": name or key.title()}, token=tenant.api_key)
    await membership(api, tenant, "setTeamMembers", key, members)


async def membership(
    api: Api, tenant: TenantAccess, operation: str, key: str, external_ids: list[str]
) -> int:
    query = MEMBERSHIP.replace("OPERATION", operation)
    data = await api.data(query, {"key": key, "ids": external_ids}, token=tenant.api_key)
    count: int = data[operation]["memberCount"]
    return count


async def users(api: Api, tenant: TenantAccess, *names: str) -> list[UserAccess]:
    return [await make_user(api, tenant, name) for name in names]


async def inbox(api: Api, user: UserAccess, **filter: Any) -> list[dict[str, Any]]:
    data = await api.data(INBOX, {"filter": filter or None}, token=user.token)
    return [edge["node"] for edge in data["notifications"]["edges"]]


def teams_of(notifications: list[dict[str, Any]]) -> list[str | None]:
    return [n["team"] and n["team"]["key"] for n in notifications]


async def test_a_team_is_made_filled_listed_paged_and_deleted(api: Api, tenant) -> None:
    # given a team of three, then one more, then one fewer (and one who never was)
    await team(api, tenant, "ops", ["ann", "bob", "cy"], name="Operations")
    added = await membership(api, tenant, "addTeamMembers", "ops", ["cy", "dee"])
    removed = await membership(api, tenant, "removeTeamMembers", "ops", ["ann", "nobody"])

    # when the teams are listed, page by page
    first = (await api.data(TEAMS, token=tenant.api_key))["teams"]
    cursor = first[0]["members"]["pageInfo"]["endCursor"]
    second = (await api.data(TEAMS, {"after": cursor}, token=tenant.api_key))["teams"]
    deleted = await api.data(DELETE, {"key": "ops"}, token=tenant.api_key)
    again = await api.data(DELETE, {"key": "ops"}, token=tenant.api_key)

    # then the members are there in the order they joined, and the team goes when deleted
    assert (added, removed) == (4, 3)
    assert [(t["key"], t["name"], t["memberCount"]) for t in first] == [("ops", "Operations", 3)]
    page = first[0]["members"]
    assert [e["node"]["externalId"] for e in page["edges"]] == ["bob", "cy"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["externalId"] for e in second[0]["members"]["edges"]] == ["dee"]
    assert deleted == {"deleteTeam": True} and again == {"deleteTeam": False}
    assert (await api.data(TEAMS, token=tenant.api_key))["teams"] == []


async def test_upsert_renames_a_team_by_its_key(api: Api, tenant) -> None:
    await team(api, tenant, "ops", ["ann"], name="Ops")

    renamed = await api.data(UPSERT, {"key": "ops", "name": "Operations"}, token=tenant.api_key)

    assert renamed["upsertTeam"] == {"key": "ops", "name": "Operations", "memberCount": 1}


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"key": "has space", "name": "x"}, "key"),
        ({"key": "", "name": "x"}, "key"),
        ({"key": "ops", "name": " "}, "name"),
        ({"key": "ops", "name": "x" * 201}, "name"),
    ],
)
async def test_a_bad_team_is_refused_naming_the_field(
    api: Api, tenant, variables: dict[str, str], field: str
) -> None:
    error = await api.error(UPSERT, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_a_bad_member_is_refused_naming_the_argument(api: Api, tenant) -> None:
    await team(api, tenant, "ops", ["ann"])
    query = MEMBERSHIP.replace("OPERATION", "setTeamMembers")

    error = await api.error(query, {"key": "ops", "ids": ["bob", " "]}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "externalIds"}
    listed = (await api.data(TEAMS, token=tenant.api_key))["teams"]
    assert [e["node"]["externalId"] for e in listed[0]["members"]["edges"]] == ["ann"]


async def test_membership_of_a_team_that_does_not_exist_is_not_found(api: Api, tenant) -> None:
    query = MEMBERSHIP.replace("OPERATION", "addTeamMembers")

    error = await api.error(query, {"key": "ghosts", "ids": ["ann"]}, token=tenant.api_key)

    assert error["extensions"]["code"] == "NOT_FOUND" and "ghosts" in error["message"]


async def test_a_team_publish_reaches_each_member_once_through_the_first_team_named(
    api: Api, tenant
) -> None:
    # given ann and bob in ops, bob and cy in oncall, and dee named directly besides
    ann, bob, cy, dee = await users(api, tenant, "ann", "bob", "cy", "dee")
    await team(api, tenant, "ops", ["ann", "bob"], name="Operations")
    await team(api, tenant, "oncall", ["bob", "cy", "dee"], name="On call")

    # when a notification goes to dee and both teams
    result = await publish(api, tenant, ["dee"], title="deploy", teams=["ops", "oncall"])

    # then each of the four has it once, through the first way that reached them
    assert result["count"] == 4 and len(set(result["notificationIds"])) == 4
    assert [n["team"] for n in await inbox(api, ann)] == [{"key": "ops", "name": "Operations"}]
    assert teams_of(await inbox(api, bob)) == ["ops"]
    assert [n["team"] for n in await inbox(api, cy)] == [{"key": "oncall", "name": "On call"}]
    assert teams_of(await inbox(api, dee)) == [None]


async def test_the_inbox_filters_by_team(api: Api, tenant) -> None:
    # given ann with a notification through ops, one through oncall and one of her own
    [ann] = await users(api, tenant, "ann")
    await team(api, tenant, "ops", ["ann"])
    await team(api, tenant, "oncall", ["ann"])
    await publish(api, tenant, [], title="to ops", teams=["ops"])
    await publish(api, tenant, [], title="to oncall", teams=["oncall"])
    await publish(api, tenant, ["ann"], title="to ann")

    # when she filters by team
    data = await api.data(INBOX, {"filter": {"teams": ["ops"]}}, token=ann.token)
    both = await inbox(api, ann, teams=["ops", "oncall"])
    neither = await inbox(api, ann, teams=["sales"])

    # then she sees what came through those teams only, and how many
    assert data["notifications"]["totalCount"] == 1
    assert [e["node"]["title"] for e in data["notifications"]["edges"]] == ["to ops"]
    assert [n["title"] for n in both] == ["to oncall", "to ops"]
    assert neither == []


async def test_an_unknown_team_is_refused_by_name_and_nothing_is_written(api: Api, tenant) -> None:
    [ann] = await users(api, tenant, "ann")
    await team(api, tenant, "ops", ["ann"])
    variables = {"input": {"teams": ["ops", "nope"], "category": "a.b", "title": "t"}}

    error = await api.error(PUBLISH, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "teams"}
    assert "'nope'" in error["message"] and "'ops'" not in error["message"]
    assert await inbox(api, ann) == []


async def test_a_publish_naming_no_one_is_refused(api: Api, tenant) -> None:
    variables = {"input": {"category": "a.b", "title": "t"}}

    error = await api.error(PUBLISH, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "recipients"}


async def test_a_team_without_members_reaches_nobody(api: Api, tenant) -> None:
    await team(api, tenant, "empty", [])

    result = await publish(api, tenant, [], teams=["empty"])

    assert (result["count"], result["notificationIds"]) == (0, [])


async def test_changes_to_a_team_apply_to_later_publishes_only(api: Api, tenant) -> None:
    # given a notification to ops while ann was in it
    ann, bob = await users(api, tenant, "ann", "bob")
    await team(api, tenant, "ops", ["ann"], name="Ops")
    await publish(api, tenant, [], title="before", teams=["ops"])

    # when ann leaves, bob joins, and the team is renamed, then it is published to again
    await membership(api, tenant, "setTeamMembers", "ops", ["bob"])
    await api.data(UPSERT, {"key": "ops", "name": "Operations"}, token=tenant.api_key)
    await publish(api, tenant, [], title="after", teams=["ops"])

    # then ann keeps the first as it came and misses the second, which bob has
    assert [(n["title"], n["team"]["name"]) for n in await inbox(api, ann)] == [("before", "Ops")]
    assert [(n["title"], n["team"]["name"]) for n in await inbox(api, bob)] == [
        ("after", "Operations")
    ]


async def test_a_retried_team_publish_returns_the_first_result(api: Api, tenant) -> None:
    await users(api, tenant, "ann", "bob")
    await team(api, tenant, "ops", ["ann", "bob"])

    first = await publish(api, tenant, [], teams=["ops"], idempotencyKey="k1")
    retry = await publish(api, tenant, [], teams=["ops"], idempotencyKey="k1")

    assert retry["duplicate"] is True and retry["notificationIds"] == first["notificationIds"]


async def test_an_erased_user_leaves_their_teams(api: Api, tenant) -> None:
    await users(api, tenant, "ann", "bob")
    await team(api, tenant, "ops", ["ann", "bob"])

    await erase_user(api, tenant.api_key, "ann")

    listed = (await api.data(TEAMS, token=tenant.api_key))["teams"]
    assert listed[0]["memberCount"] == 1
    assert (await publish(api, tenant, [], teams=["ops"]))["count"] == 1


async def test_teams_are_the_tenants_own(api: Api, tenant) -> None:
    # given ops in our tenant, and a tenant of theirs with its own ops and none named ours
    [ann] = await users(api, tenant, "ann")
    await team(api, tenant, "ops", ["ann"])
    await team(api, tenant, "ours", ["ann"])
    theirs = await make_tenant("Theirs")
    [their_ann] = await users(api, theirs, "ann")
    await team(api, theirs, "ops", ["ann"])

    # when they publish to ops, and to our other team's key
    reached = await publish(api, theirs, [], title="theirs", teams=["ops"])
    variables = {"input": {"teams": ["ours"], "category": "a.b", "title": "theirs"}}
    refused = await api.error(PUBLISH, variables, token=theirs.api_key)

    # then only their own ann hears of it, and our team is unknown to them
    assert reached["count"] == 1
    assert [n["title"] for n in await inbox(api, their_ann)] == ["theirs"]
    assert await inbox(api, ann) == []
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert [t["memberCount"] for t in (await api.data(TEAMS, token=theirs.api_key))["teams"]] == [1]


# --- rules -------------------------------------------------------------------------------------


def team_rule(*recipients: str) -> dict[str, Any]:
    return {
        "name": "Deploys",
        "events": ["deploy.*"],
        "actions": [{"channel": "IN_APP", "recipients": list(recipients)}],
    }


async def test_a_rule_action_sends_to_a_teams_current_members(api: Api, tenant) -> None:
    # given a rule sending to ops and to ann, who is in ops too
    ann, bob = await users(api, tenant, "ann", "bob")
    await team(api, tenant, "ops", ["ann"], name="Operations")
    await api.data(CREATE_RULE, {"input": team_rule("team:ops", "ann")}, token=tenant.api_key)
    await membership(api, tenant, "addTeamMembers", "ops", ["bob"])

    # when an event matches
    result = await api.data(PUBLISH_EVENT, {"type": "deploy.done"}, token=tenant.api_key)

    # then each has one notification: ann as named, bob through the team
    assert result["publishEvent"]["count"] == 2
    assert [(n["title"], n["team"]) for n in await inbox(api, ann)] == [("Deploys", None)]
    assert [n["team"] for n in await inbox(api, bob)] == [{"key": "ops", "name": "Operations"}]


async def test_a_rule_naming_an_unknown_team_is_refused_naming_it(api: Api, tenant) -> None:
    error = await api.error(CREATE_RULE, {"input": team_rule("team:ghosts")}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "actions[0].recipients"}
    assert "ghosts" in error["message"]


async def test_rule_builders_find_the_teams_among_the_recipients(api: Api, tenant) -> None:
    await team(api, tenant, "ops", ["ann"], name="Operations")

    data = await api.data("{ recipients { teams { key name memberCount } } }", token=tenant.api_key)

    assert data["recipients"]["teams"] == [{"key": "ops", "name": "Operations", "memberCount": 1}]


async def test_a_team_that_a_rule_sends_to_is_kept(api: Api, tenant) -> None:
    await team(api, tenant, "ops", [])
    await api.data(CREATE_RULE, {"input": team_rule("team:ops")}, token=tenant.api_key)

    error = await api.error(DELETE, {"key": "ops"}, token=tenant.api_key)

    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "'Deploys'" in error["message"]
    assert [t["key"] for t in (await api.data(TEAMS, token=tenant.api_key))["teams"]] == ["ops"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no row locks
async def test_a_team_deleted_while_a_rule_naming_it_is_saved_is_kept(
    api: Api, tenant, database_url: str
) -> None:
    # given a team, and the rules table held by someone else for a moment
    await team(api, tenant, "ops", [])
    async with postgres_session(database_url) as holder:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("LOCK TABLE rules IN SHARE MODE")

        # when a rule naming the team waits to be written, and the team is deleted meanwhile
        rule = {"input": team_rule("team:ops")}
        saving = asyncio.create_task(api.call(CREATE_RULE, rule, token=tenant.api_key))
        await waiting_for_locks(holder, 1)
        deleting = asyncio.create_task(api.call(DELETE, {"key": "ops"}, token=tenant.api_key))
        await waiting_for_locks(holder, 2, or_done=deleting)
        await hold.rollback()
        saved, deleted = await asyncio.gather(saving, deleting)

    # then the rule is saved and the team it sends to is kept
    assert "errors" not in saved
    assert deleted["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert [t["key"] for t in (await api.data(TEAMS, token=tenant.api_key))["teams"]] == ["ops"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no row locks
async def test_a_team_deleted_while_its_members_are_set_takes_its_turn(
    api: Api, tenant, database_url: str
) -> None:
    # given ops with ann, whose membership someone else holds for a moment
    await team(api, tenant, "ops", ["ann"])
    async with postgres_session(database_url) as holder:
        hold = holder.transaction()
        await hold.start()
        await holder.execute(
            "SELECT m.id FROM team_members m JOIN users u ON u.id = m.user_id "
            "WHERE u.external_id = 'ann' FOR UPDATE"
        )

        # when bob is to replace her (which waits for her row), and ops is deleted meanwhile
        members = MEMBERSHIP.replace("OPERATION", "setTeamMembers")
        setting = asyncio.create_task(
            api.call(members, {"key": "ops", "ids": ["bob"]}, token=tenant.api_key)
        )
        await waiting_for_locks(holder, 1)
        deleting = asyncio.create_task(api.call(DELETE, {"key": "ops"}, token=tenant.api_key))
        await waiting_for_locks(holder, 2)
        await hold.rollback()
        set_, deleted = await asyncio.gather(setting, deleting)

    # then each went through in turn (locking the team after its members would deadlock)
    assert [set_.get("errors"), deleted.get("errors")] == [None, None]
    assert (await api.data(TEAMS, token=tenant.api_key))["teams"] == []


# --- scheduled and live ------------------------------------------------------------------------


async def test_a_scheduled_team_publish_goes_to_the_members_at_scheduling(
    api: Api, tenant, clock: Clock
) -> None:
    # given a notification to ops in half an hour (within their tokens' hour), while ann is
    # its member
    ann, bob = await users(api, tenant, "ann", "bob")
    await team(api, tenant, "ops", ["ann"], name="Ops")
    send_at = app_clock.now() + timedelta(minutes=30)
    await publish(api, tenant, [], title="later", teams=["ops"], sendAt=send_at.isoformat())

    # when bob takes her place before it is due, and then it is due
    await membership(api, tenant, "setTeamMembers", "ops", ["bob"])
    pending = await api.data(SCHEDULED, token=tenant.api_key)
    clock.set(send_at + timedelta(seconds=1))
    released = await scheduling.release_due()

    # then it was waiting for ann, and it goes to her, through ops
    assert [edge["node"] for edge in pending["scheduledNotifications"]["edges"]] == [
        {"recipient": "ann", "team": {"key": "ops", "name": "Ops"}}
    ]
    assert released == 1
    assert [(n["title"], n["team"]) for n in await inbox(api, ann)] == [
        ("later", {"key": "ops", "name": "Ops"})
    ]
    assert await inbox(api, bob) == []


async def test_live_subscribers_see_the_team_each_came_through(
    server: LiveServer, live_api: Api
) -> None:
    # given ann in ops, bob in oncall, both subscribed
    tenant = await make_tenant()
    ann, bob = await users(live_api, tenant, "ann", "bob")
    await team(live_api, tenant, "ops", ["ann"], name="Operations")
    await team(live_api, tenant, "oncall", ["bob"], name="On call")
    async with (
        subscribed(server, ann.token, LIVE) as (ann_socket, ann_op),
        subscribed(server, bob.token, LIVE) as (bob_socket, bob_op),
    ):
        await inbox_event(ann_socket, ann_op)  # the SYNCs
        await inbox_event(bob_socket, bob_op)

        # when one publish reaches both teams
        await publish(live_api, tenant, [], title="deploy", teams=["ops", "oncall"])

        # then each hears of it with their own team
        ann_event = await inbox_event(ann_socket, ann_op)
        bob_event = await inbox_event(bob_socket, bob_op)
    assert ann_event["notification"] == {
        "title": "deploy",
        "team": {"key": "ops", "name": "Operations"},
    }
    assert bob_event["notification"] == {
        "title": "deploy",
        "team": {"key": "oncall", "name": "On call"},
    }
