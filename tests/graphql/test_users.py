"""Users, roles and the tokens their browsers use."""

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.models import ApiKey, User
from app.settings import Settings
from tests.conftest import LiveServer, RedisServer, serving_on_redis
from tests.helpers import (
    ERASE_USER,
    ISSUE_TOKEN,
    UPSERT_USER,
    Api,
    erase_user,
    make_tenant,
    make_user,
    publish,
    signing_secret_of,
)
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

VIEWER = "{ viewer { id externalId email name role } }"
FULL_UPSERT = """
mutation($input: UpsertUserInput!) {
  upsertUser(input: $input) { id externalId email phone name role locale timezone }
}
"""


async def upsert(api: Api, api_key: str, **fields: object) -> dict[str, object]:
    result: dict[str, object] = (await api.data(FULL_UPSERT, {"input": fields}, token=api_key))[
        "upsertUser"
    ]
    return result


async def test_upsert_creates_then_changes_only_the_given_fields(api: Api) -> None:
    tenant = await make_tenant()

    created = await upsert(
        api, tenant.api_key, externalId="u1", email="a@example.com", name="Ann", locale="en"
    )
    updated = await upsert(api, tenant.api_key, externalId="u1", role="ADMIN", phone="+4412345")

    assert created["role"] == "MEMBER"
    assert updated == {
        "id": created["id"],
        "externalId": "u1",
        "email": "a@example.com",
        "phone": "+4412345",
        "name": "Ann",
        "role": "ADMIN",
        "locale": "en",
        "timezone": None,
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"externalId": ""}, "externalId"),
        ({"externalId": "u", "email": "not-an-address"}, "email"),
        ({"externalId": "u", "phone": "call me"}, "phone"),
        ({"externalId": "u", "name": "x" * 201}, "name"),
    ],
)
async def test_upsert_refuses_bad_fields(api: Api, fields, field) -> None:
    tenant = await make_tenant()

    error = await api.error(FULL_UPSERT, {"input": fields}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_upsert_needs_an_api_key(api: Api) -> None:
    tenant = await make_tenant()
    owner = await make_user(api, tenant, "owner", role="OWNER")

    error = await api.error(UPSERT_USER, {"input": {"externalId": "x"}}, token=owner.token)

    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_viewer_is_the_tokens_user_with_the_role_on_record(api: Api) -> None:
    tenant = await make_tenant()
    admin = await make_user(api, tenant, "adm", role="ADMIN", email="adm@example.com")

    viewer = (await api.data(VIEWER, token=admin.token))["viewer"]
    await upsert(api, tenant.api_key, externalId="adm", role="MEMBER")
    demoted = (await api.data(VIEWER, token=admin.token))["viewer"]

    assert viewer["externalId"] == "adm" and viewer["role"] == "ADMIN"
    assert viewer["email"] == "adm@example.com"
    assert demoted["role"] == "MEMBER"  # the same token now carries the new role


async def test_a_token_for_a_user_not_yet_seen_signs_in_a_new_member(api: Api) -> None:
    # Given a tenant that has never heard of "newcomer"
    tenant = await make_tenant()

    # When the backend mints their first token
    issued = await api.data(ISSUE_TOKEN, {"externalId": "newcomer"}, token=tenant.api_key)
    token = issued["issueUserToken"]["token"]

    # Then the token signs in a member with an inbox, as a publish would have made them
    viewer = (await api.data(VIEWER, token=token))["viewer"]
    inbox = await api.data("{ notifications { totalCount } unreadCount }", token=token)
    assert viewer["externalId"] == "newcomer" and viewer["role"] == "MEMBER"
    assert inbox == {"notifications": {"totalCount": 0}, "unreadCount": 0}


async def test_first_tokens_minted_together_make_one_user(api: Api) -> None:
    # Given a user no one has seen yet
    tenant = await make_tenant()

    # When two first tokens are minted at once
    minted = await asyncio.gather(
        *(api.data(ISSUE_TOKEN, {"externalId": "twice"}, token=tenant.api_key) for _ in range(2))
    )

    # Then both sign in the same, single user
    viewers = [
        (await api.data(VIEWER, token=m["issueUserToken"]["token"]))["viewer"]["id"] for m in minted
    ]
    assert viewers[0] == viewers[1]
    assert await User.filter(external_id="twice").count() == 1


async def test_a_token_for_a_bad_external_id_is_refused_naming_it(api: Api) -> None:
    tenant = await make_tenant()

    error = await api.error(ISSUE_TOKEN, {"externalId": " "}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "externalId"}


@pytest.mark.parametrize("ttl", [0, 59, 30 * 24 * 3600 + 1])
async def test_issue_token_bounds_its_lifetime(api: Api, ttl: int) -> None:
    tenant = await make_tenant()
    await make_user(api, tenant, "u")

    error = await api.error(ISSUE_TOKEN, {"externalId": "u", "ttl": ttl}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "ttlSeconds"}


async def test_issued_token_expires_when_it_says(api: Api) -> None:
    tenant = await make_tenant()
    await make_user(api, tenant, "u")

    issued = await api.data(ISSUE_TOKEN, {"externalId": "u", "ttl": 600}, token=tenant.api_key)

    expires_at = datetime.fromisoformat(issued["issueUserToken"]["expiresAt"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(seconds=600))) < timedelta(seconds=5)


def host_minted_token(tenant_id: str, secret: str, subject: str, expires_in: int = 300) -> str:
    """What a host backend does on its own with PyJWT and the tenant's signing secret."""
    claims = {
        "sub": subject,
        "tid": tenant_id,
        "exp": datetime.now(UTC) + timedelta(seconds=expires_in),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


async def tenant_secret(tenant_id: str) -> str:
    return await signing_secret_of(tenant_id)


async def test_a_host_backend_can_mint_tokens_with_the_signing_secret(api: Api) -> None:
    tenant = await make_tenant()
    token = host_minted_token(tenant.tenant_id, await tenant_secret(tenant.tenant_id), "hosted")

    viewer = (await api.data(VIEWER, token=token))["viewer"]

    assert viewer["externalId"] == "hosted" and viewer["role"] == "MEMBER"


async def test_bad_credentials_are_unauthenticated(api: Api) -> None:
    tenant = await make_tenant()
    other = await make_tenant("Other")
    secret = await tenant_secret(tenant.tenant_id)
    candidates = {
        "expired": host_minted_token(tenant.tenant_id, secret, "u", expires_in=-10),
        "wrong secret": host_minted_token(tenant.tenant_id, "not-the-secret-" + "x" * 32, "u"),
        "other tenant's secret": host_minted_token(
            tenant.tenant_id, await tenant_secret(other.tenant_id), "u"
        ),
        "unknown tenant": host_minted_token("00000000-0000-0000-0000-000000000000", secret, "u"),
        "garbage": "not.a.jwt",
        "unknown key": "bfk_" + "x" * 43,
        "unstorable subject": host_minted_token(tenant.tenant_id, secret, "u\x00"),
    }

    for reason, token in candidates.items():
        error = await api.error(VIEWER, token=token)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", reason


async def test_non_bearer_authorization_is_unauthenticated(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": "Basic abc"}
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_api_key_is_refused_at_once(api: Api) -> None:
    tenant = await make_tenant()
    await upsert(api, tenant.api_key, externalId="u")

    await ApiKey.filter(tenant_id=tenant.tenant_id).update(revoked_at=datetime.now(UTC))
    error = await api.error(FULL_UPSERT, {"input": {"externalId": "u"}}, token=tenant.api_key)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_api_key_use_is_recorded(api: Api) -> None:
    tenant = await make_tenant()

    await upsert(api, tenant.api_key, externalId="u")

    key = await ApiKey.get(tenant_id=tenant.tenant_id)
    assert key.last_used_at is not None
    assert datetime.now(UTC) - key.last_used_at < timedelta(minutes=1)


# --- erasure -------------------------------------------------------------------------------

INBOX_TITLES = "{ notifications { edges { node { title } } } }"


async def titles(api: Api, token: str) -> list[str]:
    inbox = (await api.data(INBOX_TITLES, token=token))["notifications"]
    return [edge["node"]["title"] for edge in inbox["edges"]]


async def test_erase_user_answers_whether_there_was_a_user(api: Api) -> None:
    tenant = await make_tenant()
    await make_user(api, tenant, "alice")

    first = await erase_user(api, tenant.api_key, "alice")
    again = await erase_user(api, tenant.api_key, "alice")

    assert (first, again) == (True, False)
    assert not await User.exists(tenant_id=tenant.tenant_id, external_id="alice")


@pytest.mark.parametrize("role", ["OWNER", "ADMIN"])
async def test_owners_and_admins_may_erase_users(api: Api, role: str) -> None:
    tenant = await make_tenant()
    administrator = await make_user(api, tenant, "boss", role=role)
    await make_user(api, tenant, "alice")

    assert await erase_user(api, administrator.token, "alice") is True


async def test_members_may_not_erase_users(api: Api) -> None:
    tenant = await make_tenant()
    member = await make_user(api, tenant, "member", role="MEMBER")
    await make_user(api, tenant, "alice")

    error = await api.error(ERASE_USER, {"externalId": "alice"}, token=member.token)

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await User.exists(tenant_id=tenant.tenant_id, external_id="alice")


async def test_erase_leaves_another_tenants_user_of_the_same_id(api: Api) -> None:
    ours, theirs = await make_tenant("Ours"), await make_tenant("Theirs")
    await make_user(api, ours, "alice")
    their_alice = await make_user(api, theirs, "alice")
    await publish(api, theirs, ["alice"], title="theirs")

    await erase_user(api, ours.api_key, "alice")

    assert await titles(api, their_alice.token) == ["theirs"]


async def test_a_token_issued_before_the_erase_is_refused(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")

    await erase_user(api, tenant.api_key, "alice")
    error = await api.error(VIEWER, token=alice.token)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    # refused before the lookup that creates users a token names
    assert not await User.exists(tenant_id=tenant.tenant_id, external_id="alice")


async def test_an_old_token_stays_refused_once_a_publish_re_creates_the_user(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")
    await erase_user(api, tenant.api_key, "alice")

    await publish(api, tenant, ["alice"], title="after")
    error = await api.error(VIEWER, token=alice.token)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_token_issued_after_the_erase_sees_only_the_new_notification(api: Api) -> None:
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")
    old_id = (await api.data(VIEWER, token=alice.token))["viewer"]["id"]
    await publish(api, tenant, ["alice"], title="before")
    await erase_user(api, tenant.api_key, "alice")
    await publish(api, tenant, ["alice"], title="after")

    fresh = await api.data(ISSUE_TOKEN, {"externalId": "alice"}, token=tenant.api_key)
    token = fresh["issueUserToken"]["token"]

    assert (await api.data(VIEWER, token=token))["viewer"]["id"] != old_id
    assert await titles(api, token) == ["after"]


async def test_a_host_minted_token_without_iat_is_refused_once_its_subject_was_erased(
    api: Api,
) -> None:
    tenant = await make_tenant()
    without_iat = host_minted_token(
        tenant.tenant_id, await tenant_secret(tenant.tenant_id), "hosted"
    )
    await api.data(VIEWER, token=without_iat)  # creates the user

    await erase_user(api, tenant.api_key, "hosted")
    error = await api.error(VIEWER, token=without_iat)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_host_minted_token_with_a_later_iat_is_let_in_after_the_erase(api: Api) -> None:
    tenant = await make_tenant()
    secret = await tenant_secret(tenant.tenant_id)
    await api.data(VIEWER, token=host_minted_token(tenant.tenant_id, secret, "hosted"))
    await erase_user(api, tenant.api_key, "hosted")
    claims = {
        "sub": "hosted",
        "tid": tenant.tenant_id,
        "exp": datetime.now(UTC) + timedelta(minutes=5),
        "iat": datetime.now(UTC).timestamp(),
    }

    viewer = await api.data(VIEWER, token=jwt.encode(claims, secret, algorithm="HS256"))

    assert viewer["viewer"]["externalId"] == "hosted"


async def test_an_erased_users_tokens_stay_refused_across_a_rotation(api: Api) -> None:
    # Given a user's token, and the user erased
    tenant = await make_tenant()
    alice = await make_user(api, tenant, "alice")
    await erase_user(api, tenant.api_key, "alice")

    # When the signing secret is rotated
    rotate = "mutation { rotateSigningSecret }"
    new_secret = (await api.data(rotate, token=tenant.api_key))["rotateSigningSecret"]

    # Then the old token (signed with the secret still in its grace) is refused, and so is
    # a token without iat that the host backend mints with the new secret
    without_iat = host_minted_token(tenant.tenant_id, new_secret, "alice")
    for token in (alice.token, without_iat):
        error = await api.error(VIEWER, token=token)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "erased" in error["message"]
    assert not await User.exists(tenant_id=tenant.tenant_id, external_id="alice")


async def subscribed_socket(server: LiveServer, token: str, protocol: str) -> GraphQLSocket:
    socket = await GraphQLSocket.open(server.ws_url, token, protocol)
    await socket.acknowledged()
    op = await socket.subscribe("subscription { inbox { kind unreadCount } }")
    assert (await socket.next(op))["inbox"]["kind"] == "SYNC"
    return socket


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_the_erased_users_open_sockets_are_closed(
    server: LiveServer, live_api: Api, protocol: str
) -> None:
    tenant = await make_tenant()
    alice = await make_user(live_api, tenant, "alice")
    bob = await make_user(live_api, tenant, "bob")
    alice_socket = await subscribed_socket(server, alice.token, protocol)
    bob_socket = await subscribed_socket(server, bob.token, protocol)

    await erase_user(live_api, tenant.api_key, "alice")

    assert await alice_socket.close_frame() == (4401, "user erased")
    await publish(live_api, tenant, ["bob"])  # bob's socket lives on
    assert (await bob_socket.result())["payload"]["data"]["inbox"]["kind"] == "CREATED"
    await bob_socket.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_socket_whose_erase_message_was_lost_is_closed_once_redis_is_back(
    settings: Settings, own_redis: RedisServer
) -> None:
    async with serving_on_redis(settings, own_redis) as (live, api):
        tenant = await make_tenant()
        alice = await make_user(api, tenant, "alice")
        socket = await subscribed_socket(live, alice.token, TRANSPORT_WS)

        own_redis.stop()
        await erase_user(api, tenant.api_key, "alice")  # its message to the processes is lost
        own_redis.start()

        assert await socket.close_frame(timeout=15) == (4401, "user erased")
