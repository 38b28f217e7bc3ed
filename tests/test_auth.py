"""User tokens verified against the tenant's signing secrets: the current one, the one a
rotation replaced while its grace lasts, and secrets stored by older releases."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from starlette.applications import Starlette

from app import clock as app_clock
from app.auth import CredentialGone, UserPrincipal, authenticate, mint_user_token
from app.crypto import SecretBox
from app.errors import Unauthenticated
from app.models import Role, Tenant
from app.services import tenants
from tests.conftest import Clock
from tests.helpers import TenantAccess, make_tenant, secret_box, signing_secret_of

HOUR = timedelta(hours=1)


def token_for(
    tenant: TenantAccess, secret: str, external_id: str = "alice", ttl: timedelta = HOUR
) -> str:
    token, _ = mint_user_token(
        tenant_id=uuid.UUID(tenant.tenant_id),
        external_id=external_id,
        signing_secret=secret,
        ttl=ttl,
    )
    return token


async def signed_in(token: str, box: SecretBox | None = None) -> UserPrincipal:
    principal = await authenticate(f"Bearer {token}", box=box or secret_box())
    assert isinstance(principal, UserPrincipal)
    return principal


async def rotate(tenant: TenantAccess, grace_seconds: int) -> tenants.RotatedSecret:
    return await tenants.rotate_signing_secret(
        tenant_id=uuid.UUID(tenant.tenant_id), grace_seconds=grace_seconds, box=secret_box()
    )


async def test_a_token_of_the_replaced_secret_verifies_until_the_grace_ends(
    app: Starlette, tenant: TenantAccess
) -> None:
    # Given a token signed before a rotation with an hour's grace
    old = token_for(tenant, await signing_secret_of(tenant.tenant_id))

    # When
    rotated = await rotate(tenant, grace_seconds=3600)

    # Then it verifies, and its principal knows when its secret stops verifying
    principal = await signed_in(old)
    assert principal.secret_until == rotated.previous_until
    assert principal.signed_with == 1


async def test_a_token_of_the_replaced_secret_is_refused_once_the_grace_has_ended(
    app: Starlette, tenant: TenantAccess, clock: Clock
) -> None:
    # Given a token that outlives the grace
    old = token_for(tenant, await signing_secret_of(tenant.tenant_id), ttl=timedelta(days=1))
    rotated = await rotate(tenant, grace_seconds=3600)

    # When the grace has passed
    clock.set(rotated.previous_until + timedelta(seconds=1))

    # Then
    with pytest.raises(Unauthenticated, match="grace period has ended"):
        await signed_in(old)


async def test_a_token_of_the_new_secret_verifies_as_the_current_one(
    app: Starlette, tenant: TenantAccess, clock: Clock
) -> None:
    rotated = await rotate(tenant, grace_seconds=60)

    clock.set(rotated.previous_until + timedelta(days=1))
    principal = await signed_in(token_for(tenant, rotated.signing_secret))

    assert principal.signed_with == 2 and principal.secret_until is None


async def test_a_second_rotation_refuses_the_first_secrets_tokens_at_once(
    app: Starlette, tenant: TenantAccess
) -> None:
    # Given a token of the first secret, within the grace of a first rotation
    first = token_for(tenant, await signing_secret_of(tenant.tenant_id))
    await rotate(tenant, grace_seconds=3600)

    # When the secret is rotated again
    await rotate(tenant, grace_seconds=3600)

    # Then only the secret that the second rotation replaced keeps a grace
    with pytest.raises(Unauthenticated, match="Invalid user token"):
        await signed_in(first)


async def test_a_secret_stored_in_clear_by_an_older_release_still_verifies(
    app: Starlette, tenant: TenantAccess
) -> None:
    # Given a tenant row as a release before sealing wrote it: every secret in clear
    secret = "an-older-release-s-secret-" * 2
    await Tenant.filter(id=tenant.tenant_id).update(signing_secret=secret, erasure_key=secret)

    # When, then
    principal = await signed_in(token_for(tenant, secret))
    assert principal.external_id == "alice"


async def test_a_tenant_whose_secrets_no_key_opens_refuses_its_tokens_saying_why(
    app: Starlette,
) -> None:
    # Given a tenant sealed with a key since taken out of BELFRY_SECRET_KEY
    removed = SecretBox(["a key since removed"])
    tenant = await make_tenant(box=removed)
    token = token_for(tenant, await signing_secret_of(tenant.tenant_id, removed))

    # When, then: refused as a token that cannot be verified, naming the setting
    with pytest.raises(Unauthenticated, match="BELFRY_SECRET_KEY"):
        await signed_in(token)


def test_a_principal_of_a_retired_secret_ends_before_its_token_expires() -> None:
    principal = UserPrincipal(
        tenant_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        external_id="alice",
        role=Role.MEMBER,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        signed_with=1,
        secret_until=datetime.now(UTC) - timedelta(seconds=1),
    )

    ends, why = principal.ending()

    assert ends == principal.secret_until and why is CredentialGone.SIGNING_SECRET_ROTATED


async def test_a_token_is_refused_once_the_clock_passes_its_expiry(
    app: Starlette, tenant: TenantAccess, clock: Clock
) -> None:
    # Given a token that lives an hour
    token = token_for(tenant, await signing_secret_of(tenant.tenant_id))

    # When the hour has passed
    clock.advance(timedelta(hours=1, seconds=1))

    # Then
    with pytest.raises(Unauthenticated, match="User token has expired"):
        await signed_in(token)


async def test_a_token_minted_while_the_clock_is_ahead_verifies(
    app: Starlette, tenant: TenantAccess, clock: Clock
) -> None:
    clock.advance(timedelta(days=2))

    principal = await signed_in(token_for(tenant, await signing_secret_of(tenant.tenant_id)))

    assert principal.expires_at > app_clock.now()


@pytest.mark.parametrize("claim", ["iat", "nbf"])
async def test_a_token_not_valid_yet_is_refused(
    app: Starlette, tenant: TenantAccess, claim: str
) -> None:
    secret = await signing_secret_of(tenant.tenant_id)
    later = app_clock.now() + timedelta(hours=1)
    claims = {"sub": "alice", "tid": tenant.tenant_id, "exp": later + timedelta(hours=1)}

    token = jwt.encode({**claims, claim: later}, secret, algorithm="HS256")

    with pytest.raises(Unauthenticated, match="Invalid user token"):
        await signed_in(token)
