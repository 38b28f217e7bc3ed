"""The wall between tenants: every root field, called with another tenant's credentials and
naming our ids, shows nothing of ours and changes nothing of ours."""

import json
from dataclasses import dataclass
from typing import Any

from app.graphql.schema import schema
from tests.conftest import LiveServer
from tests.graphql.test_subscriptions import subscribed
from tests.helpers import (
    Api,
    TenantAccess,
    UserAccess,
    make_tenant,
    make_user,
    publish,
    signing_secret_of,
)

SECRET = "ours-secret"  # in every text of ours; never in an answer to them

# Each root field, called with the ids of ours it can take ($nid, $did, $rid, $kid, $ext,
# $team).
CALLS: dict[str, str] = {
    "Query.viewer": "{ viewer { id externalId email } }",
    "Query.notifications": "{ notifications { totalCount edges { node { id title data } } } }",
    "Query.notification": "query($nid: ID!) { notification(id: $nid) { id title } }",
    "Query.notificationStats": "{ notificationStats { total unread } }",
    "Query.unreadCount": "{ unreadCount }",
    "Query.unseenCount": "{ unseenCount }",
    "Query.eventCategories": "{ eventCategories { categories { key description } } }",
    "Query.preferences": "{ preferences { category } }",
    "Query.settings": "{ settings { retentionDays } }",
    "Query.apiKeys": "{ apiKeys { id name prefix } }",
    "Query.recipients": "{ recipients { users { id externalId email name } teams { name } } }",
    "Query.channels": "{ channels { channel config } }",
    "Query.deliveries": (
        "query($nid: ID!, $rid: ID!) { a: deliveries(filter: {notificationId: $nid}) "
        "{ totalCount edges { node { id } } } b: deliveries(filter: {ruleId: $rid}) "
        "{ totalCount edges { node { id notification { title } } } } }"
    ),
    "Query.dispatcherStatus": "{ dispatcherStatus { queueDepth } }",
    "Query.scheduledNotifications": (
        "{ scheduledNotifications { totalCount edges { node { id title recipient } } } }"
    ),
    "Query.rules": "{ rules { id name } }",
    "Query.rule": "query($rid: ID!) { rule(id: $rid) { id name } }",
    "Mutation.upsertUser": (
        "mutation($ext: String!) { upsertUser(input: {externalId: $ext}) { id email name } }"
    ),
    "Mutation.issueUserToken": (
        "mutation($ext: String!) { issueUserToken(externalId: $ext) { token } }"
    ),
    "Mutation.eraseUser": "mutation($ext: String!) { eraseUser(externalId: $ext) }",
    "Mutation.publishNotification": (
        "mutation($ext: String!) { publishNotification(input: {recipients: [$ext], "
        'category: "auth.welcome", title: "theirs"}) { count } }'
    ),
    "Mutation.cancelScheduledNotification": (
        "mutation($nid: ID!) { cancelScheduledNotification(id: $nid) }"
    ),
    "Mutation.markNotificationRead": "mutation($nid: ID!) { markNotificationRead(id: $nid) }",
    "Mutation.setNotificationRead": (
        "mutation($nid: ID!) { setNotificationRead(id: $nid) { id title } }"
    ),
    "Mutation.markNotificationsRead": (
        "mutation($nid: ID!) { markNotificationsRead(ids: [$nid]) { marked } }"
    ),
    "Mutation.markAllNotificationsRead": "mutation { markAllNotificationsRead { marked } }",
    "Mutation.deleteNotification": "mutation($nid: ID!) { deleteNotification(id: $nid) }",
    "Mutation.deleteReadNotifications": "mutation { deleteReadNotifications { deleted } }",
    "Mutation.markNotificationsSeen": (
        "mutation($nid: ID!) { markNotificationsSeen(ids: [$nid]) { marked } }"
    ),
    "Mutation.archiveNotification": (
        "mutation($nid: ID!) { archiveNotification(id: $nid) { id title } }"
    ),
    "Mutation.unarchiveNotification": (
        "mutation($nid: ID!) { unarchiveNotification(id: $nid) { id title } }"
    ),
    "Mutation.archiveReadNotifications": "mutation { archiveReadNotifications { marked } }",
    "Mutation.snoozeNotification": (
        'mutation($nid: ID!) { snoozeNotification(id: $nid, until: "2099-01-01T00:00:00Z") '
        "{ title } }"
    ),
    "Mutation.unsnoozeNotification": (
        "mutation($nid: ID!) { unsnoozeNotification(id: $nid) { title } }"
    ),
    "Mutation.recordNotificationAction": (
        'mutation($nid: ID!) { recordNotificationAction(id: $nid, actionId: "open") { title } }'
    ),
    "Mutation.upsertEventCategory": (
        'mutation { upsertEventCategory(input: {key: "auth.welcome", description: "x"}) { key } }'
    ),
    "Mutation.updateTenantPreference": (
        'mutation { updateTenantPreference(input: {category: "auth.welcome", inApp: false}) '
        "{ category } }"
    ),
    "Mutation.updateMyPreference": (
        'mutation { updateMyPreference(input: {category: "auth.welcome", inApp: false}) '
        "{ category } }"
    ),
    "Mutation.updateMyQuietHours": (
        'mutation { updateMyQuietHours(input: {start: "22:00", end: "07:00"}) { start } }'
    ),
    "Mutation.updateSettings": (
        "mutation { updateSettings(input: {retentionDays: 7}) { retentionDays } }"
    ),
    "Mutation.createApiKey": 'mutation { createApiKey(name: "x") { key } }',
    "Mutation.revokeApiKey": "mutation($kid: ID!) { revokeApiKey(id: $kid) { id name } }",
    "Mutation.updateChannel": (
        "mutation { updateChannel(channel: SLACK, input: {enabled: false}) { ready } }"
    ),
    "Mutation.testChannel": "mutation { testChannel(channel: SLACK) }",
    "Mutation.retryDelivery": "mutation($did: ID!) { retryDelivery(id: $did) { id } }",
    "Mutation.deleteDelivery": "mutation($did: ID!) { deleteDelivery(id: $did) }",
    "Mutation.deleteDeliveries": (
        "mutation($rid: ID!) { deleteDeliveries(filter: {ruleId: $rid}) { deleted } }"
    ),
    "Mutation.sendTestNotification": "mutation { sendTestNotification { jobId } }",
    "Mutation.createRule": (
        'mutation($ext: String!) { createRule(input: {name: "r", events: ["auth.*"], '
        "actions: [{channel: IN_APP, recipients: [$ext]}]}) { id } }"
    ),
    "Mutation.updateRule": (
        'mutation($rid: ID!) { updateRule(id: $rid, input: {name: "theirs"}) { id name } }'
    ),
    "Mutation.toggleRule": "mutation($rid: ID!) { toggleRule(id: $rid) { id name } }",
    "Mutation.deleteRule": "mutation($rid: ID!) { deleteRule(id: $rid) }",
    "Mutation.publishEvent": (
        'mutation { publishEvent(input: {type: "auth.login_failed"}) { count } }'
    ),
    "Query.teams": "{ teams { key name memberCount members { edges { node { externalId } } } } }",
    "Mutation.upsertTeam": (
        'mutation($team: String!) { upsertTeam(input: {key: $team, name: "theirs"}) '
        "{ key name memberCount } }"
    ),
    "Mutation.setTeamMembers": (
        "mutation($team: String!, $ext: String!) { setTeamMembers(key: $team, "
        "externalIds: [$ext]) { memberCount } }"
    ),
    "Mutation.addTeamMembers": (
        "mutation($team: String!, $ext: String!) { addTeamMembers(key: $team, "
        "externalIds: [$ext]) { memberCount } }"
    ),
    "Mutation.removeTeamMembers": (
        "mutation($team: String!, $ext: String!) { removeTeamMembers(key: $team, "
        "externalIds: [$ext]) { memberCount } }"
    ),
    "Mutation.deleteTeam": "mutation($team: String!) { deleteTeam(key: $team) }",
    # Last: a caller's second rotation retires their tokens, which the calls after would use.
    "Mutation.rotateSigningSecret": "mutation { rotateSigningSecret }",
}
TEAM = "ours-team"
SUBSCRIPTIONS: dict[str, str] = {
    "Subscription.inbox": "subscription { inbox { kind unreadCount notification { title } } }",
    "Subscription.unreadCount": "subscription { unreadCount }",
    "Subscription.unseenCount": "subscription { unseenCount }",
    "Subscription.deliveryStatus": (
        "subscription($nid: ID) { deliveryStatus(notificationId: $nid) { id notificationId } }"
    ),
}


@dataclass(frozen=True)
class Ours:
    tenant: TenantAccess
    alice: UserAccess
    notification_id: str
    delivery_id: str
    rule_id: str
    key_id: str

    def ids(self) -> dict[str, str]:
        return {
            "nid": self.notification_id,
            "did": self.delivery_id,
            "rid": self.rule_id,
            "kid": self.key_id,
            "ext": self.alice.external_id,
            "team": TEAM,
        }


async def given_our_tenant(api: Api) -> Ours:
    """A tenant whose user, notification, delivery, rule, team and key are all marked SECRET."""
    tenant = await make_tenant("Ours")
    alice = await make_user(api, tenant, f"alice-{SECRET}", email=f"{SECRET}@example.com")
    await api.data(
        "mutation($key: String!, $name: String!, $ext: String!) { "
        "upsertTeam(input: {key: $key, name: $name}) { key } "
        "setTeamMembers(key: $key, externalIds: [$ext]) { key } }",
        {"key": TEAM, "name": f"{SECRET} team", "ext": alice.external_id},
        token=tenant.api_key,
    )
    [nid] = (
        await publish(
            api,
            tenant,
            [],  # alice, through the team
            title=f"{SECRET} title",
            data={"s": SECRET},
            actions=[{"id": "open", "label": f"{SECRET} open"}],
            tags=[SECRET],
            teams=[TEAM],
        )
    )["notificationIds"]
    rule = {
        "name": f"{SECRET} rule",
        "events": ["auth.*"],
        "actions": [{"channel": "IN_APP", "recipients": [alice.external_id]}],
    }
    created = await api.data(
        "mutation($input: RuleInput!) { createRule(input: $input) { id } }",
        {"input": rule},
        token=tenant.api_key,
    )
    found = await api.data(
        "{ apiKeys { id } deliveries { edges { node { id } } } }", token=tenant.api_key
    )
    return Ours(
        tenant=tenant,
        alice=alice,
        notification_id=nid,
        delivery_id=found["deliveries"]["edges"][0]["node"]["id"],
        rule_id=created["createRule"]["id"],
        key_id=found["apiKeys"][0]["id"],
    )


async def their_credentials(api: Api) -> list[str]:
    """Another tenant's API key, owner and member: everyone who could try."""
    theirs = await make_tenant("Theirs")
    owner = await make_user(api, theirs, "owner", role="OWNER")
    member = await make_user(api, theirs, "member")
    return [theirs.api_key, owner.token, member.token]


async def what_ours_looks_like(api: Api, ours: Ours) -> dict[str, Any]:
    """Everything of ours the calls could reach, as we read it (and our signing secret)."""
    as_key = await api.data(
        "query($rid: ID!) { settings { retentionDays } apiKeys { id revokedAt } "
        "rule(id: $rid) { name enabled } rules { id } channels { channel enabled } "
        "deliveries { totalCount edges { node { id status } } } "
        "recipients { users { externalId email } } preferences { category inApp } "
        "eventCategories { categories { key description } } "
        "teams { key name memberCount members { edges { node { externalId } } } } }",
        {"rid": ours.rule_id},
        token=ours.tenant.api_key,
    )
    as_alice = await api.data(
        "{ viewer { id } unreadCount unseenCount notificationStats { archived } "
        "notifications(filter: {archived: INCLUDE}) "
        "{ edges { node { id title isRead isSeen isArchived interactedAt tags snoozedUntil "
        "team { key name } } } } }",
        token=ours.alice.token,
    )
    signing_secret = await signing_secret_of(ours.tenant.tenant_id)
    return {**as_key, **as_alice, "signingSecret": signing_secret}


def root_fields() -> set[str]:
    graphql = schema._schema
    roots = {
        "Query": graphql.query_type,
        "Mutation": graphql.mutation_type,
        "Subscription": graphql.subscription_type,
    }
    return {f"{name}.{field}" for name, root in roots.items() if root for field in root.fields}


def test_every_root_field_is_tried_across_the_wall() -> None:
    assert set(CALLS) | set(SUBSCRIPTIONS) == root_fields()


async def test_another_tenant_sees_and_changes_nothing_of_ours(api: Api) -> None:
    # given our tenant, and another tenant's key, owner and member
    ours = await given_our_tenant(api)
    before = await what_ours_looks_like(api, ours)
    credentials = await their_credentials(api)

    # when each of them makes every call, naming our ids
    answers = [
        (name, await api.call(query, ours.ids(), token=token))
        for name, query in CALLS.items()
        for token in credentials
    ]

    # then no answer holds anything of ours, and ours is as it was
    leaks = [name for name, answer in answers if SECRET in json.dumps(answer)]
    assert leaks == []
    assert await what_ours_looks_like(api, ours) == before


async def test_another_tenants_subscriptions_hear_nothing_of_ours(
    server: LiveServer, live_api: Api
) -> None:
    # given their owner subscribed to everything, naming our notification
    ours = await given_our_tenant(live_api)
    their_owner = (await their_credentials(live_api))[1]
    for name, query in SUBSCRIPTIONS.items():
        async with subscribed(server, their_owner, query, {"nid": ours.notification_id}) as (
            socket,
            _,
        ):
            # when something happens in our tenant
            await publish(live_api, ours.tenant, [ours.alice.external_id], title=f"{SECRET} 2")

            # then what they hear, if anything, is not ours
            heard = await socket.received_within(0.5)
            assert SECRET not in json.dumps(heard), name
