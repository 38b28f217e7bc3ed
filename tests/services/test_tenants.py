"""A tenant's token-signing secret: sealed at rest, and rotated with a grace period."""

import uuid
from datetime import timedelta

import pytest
from starlette.applications import Starlette

from app import clock
from app.errors import BadUserInput, NotFound
from app.models import Tenant
from app.services import tenants
from tests.helpers import make_tenant, secret_box, signing_secret_of


async def rotate(tenant_id: str, grace_seconds: int = 60) -> tenants.RotatedSecret:
    return await tenants.rotate_signing_secret(
        tenant_id=uuid.UUID(tenant_id), grace_seconds=grace_seconds, box=secret_box()
    )


async def test_a_new_tenants_secrets_are_stored_sealed(app: Starlette) -> None:
    # When
    created = await tenants.create_tenant(name="Acme", box=secret_box())

    # Then the columns hold no secret in clear, and the key opens them
    row = await Tenant.get(id=created.record.id)
    assert created.signing_secret not in row.signing_secret
    assert row.signing_secret.startswith("enc:v2:") and row.erasure_key.startswith("enc:v2:")
    assert secret_box().open(row.signing_secret) == created.signing_secret
    assert secret_box().open(row.erasure_key) != created.signing_secret


async def test_a_rotation_returns_a_new_secret_and_keeps_both_sealed(app: Starlette) -> None:
    # Given
    tenant = await make_tenant()
    old = await signing_secret_of(tenant.tenant_id)

    # When
    rotated = await rotate(tenant.tenant_id, grace_seconds=60)

    # Then the new secret signs from now on, and the old one is kept, sealed, for its grace
    row = await Tenant.get(id=tenant.tenant_id)
    assert rotated.signing_secret != old
    assert await signing_secret_of(tenant.tenant_id) == rotated.signing_secret
    assert rotated.signing_secret not in row.signing_secret
    assert row.previous_signing_secret is not None and old not in row.previous_signing_secret
    assert secret_box().open(row.previous_signing_secret) == old
    assert row.previous_signing_secret_until == rotated.previous_until
    assert row.signing_secret_version == 2


async def test_the_grace_runs_from_the_rotation(app: Starlette) -> None:
    tenant = await make_tenant()
    before = clock.now()

    rotated = await rotate(tenant.tenant_id, grace_seconds=3600)

    assert before + timedelta(hours=1) <= rotated.previous_until <= clock.now() + timedelta(hours=1)


@pytest.mark.parametrize("grace", [-1, tenants.MAX_GRACE_SECONDS + 1])
async def test_a_grace_outside_0_to_30_days_is_refused_and_changes_nothing(
    app: Starlette, grace: int
) -> None:
    # Given
    tenant = await make_tenant()
    before = await signing_secret_of(tenant.tenant_id)

    # When
    with pytest.raises(BadUserInput) as refused:
        await rotate(tenant.tenant_id, grace_seconds=grace)

    # Then
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "graceSeconds"}
    assert await signing_secret_of(tenant.tenant_id) == before


@pytest.mark.parametrize("grace", [0, tenants.MAX_GRACE_SECONDS])
async def test_a_grace_at_either_bound_is_taken(app: Starlette, grace: int) -> None:
    tenant = await make_tenant()

    rotated = await rotate(tenant.tenant_id, grace_seconds=grace)

    assert await signing_secret_of(tenant.tenant_id) == rotated.signing_secret


async def test_rotating_an_unknown_tenant_is_not_found(app: Starlette) -> None:
    with pytest.raises(NotFound):
        await rotate(str(uuid.uuid4()))
