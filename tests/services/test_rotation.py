"""`belfry rotate-secrets`' work: every stored secret moved to the newest key, none lost."""

import json
import uuid

from starlette.applications import Starlette

from app.crypto import SecretBox
from app.delivery.configs import load
from app.delivery.providers.webhook import WebhookConfig
from app.models import Channel, ChannelConfig, Tenant
from app.services import channels, tenants
from app.services.rotation import rotate_secrets
from tests.helpers import legacy_seal, make_tenant, signing_secret_of, store_webhook

OLD, NEW = SecretBox(["old"]), SecretBox(["new", "old"])
# A tenant's own secrets: its signing secret and its erasure key.
TENANT_SECRETS = 2


async def stored_config(tenant_id: str) -> str:
    row = await ChannelConfig.get(tenant_id=tenant_id, channel=Channel.WEBHOOK)
    return row.config


async def webhook_readiness(tenant_id: str, box: SecretBox) -> tuple[bool, str | None]:
    views = await channels.list_channels(tenant_id=uuid.UUID(tenant_id), box=box)
    [webhook] = [v for v in views if v.channel is Channel.WEBHOOK]
    return webhook.readiness.ready, webhook.readiness.reason


async def test_rotating_moves_every_secret_to_the_newest_key(app: Starlette) -> None:
    # given two tenants' secrets sealed with the old key
    ids = [(await make_tenant(box=OLD)).tenant_id for _ in range(2)]
    for tenant_id in ids:
        await store_webhook(tenant_id, OLD)

    # when the new key goes in front and the secrets are rotated
    report = await rotate_secrets(NEW)

    # then each was re-encrypted, and the old key can go
    assert report.as_dict() == {
        "channels": 2,
        "tenants": 2,
        "rotated": 2 + 2 * TENANT_SECRETS,
        "current": 0,
        "unreadable": 0,
    }
    for tenant_id in ids:
        assert await webhook_readiness(tenant_id, SecretBox(["new"])) == (True, None)
        assert await webhook_readiness(tenant_id, OLD) == (False, "SECRET_UNREADABLE")
        assert await signing_secret_of(tenant_id, SecretBox(["new"]))


async def test_rotating_again_finds_everything_current_and_writes_nothing(app: Starlette) -> None:
    tenant_id = (await make_tenant(box=OLD)).tenant_id
    await store_webhook(tenant_id, OLD)
    await rotate_secrets(NEW)
    rotated = await stored_config(tenant_id)
    sealed = await Tenant.get(id=tenant_id).values_list("signing_secret", "erasure_key")

    report = await rotate_secrets(NEW)

    assert report.as_dict() == {
        "channels": 1,
        "tenants": 1,
        "rotated": 0,
        "current": 1 + TENANT_SECRETS,
        "unreadable": 0,
    }
    assert await stored_config(tenant_id) == rotated
    assert await Tenant.get(id=tenant_id).values_list("signing_secret", "erasure_key") == sealed


async def test_rotating_reads_in_batches_and_misses_no_row(app: Starlette) -> None:
    ids = [(await make_tenant(box=OLD)).tenant_id for _ in range(5)]
    for tenant_id in ids:
        await store_webhook(tenant_id, OLD)

    report = await rotate_secrets(NEW, batch_size=2)

    assert (report.channels, report.tenants) == (5, 5)
    assert report.rotated == 5 + 5 * TENANT_SECRETS


async def test_secrets_of_the_first_format_are_rotated_too(app: Starlette) -> None:
    # given a secret written before keys could rotate
    tenant_id = (await make_tenant(box=OLD)).tenant_id
    await store_webhook(tenant_id, OLD)
    config = json.loads(await stored_config(tenant_id))
    config["signingSecret"] = legacy_seal("old", json.dumps("whsec_legacy"))
    await ChannelConfig.filter(tenant_id=tenant_id).update(config=json.dumps(config))

    report = await rotate_secrets(NEW)

    assert report.rotated == 1 + TENANT_SECRETS
    assert json.loads(await stored_config(tenant_id))["signingSecret"].startswith("enc:v2:")
    webhook = (await load(tenant_id=uuid.UUID(tenant_id), box=SecretBox(["new"])))[Channel.WEBHOOK]
    assert isinstance(webhook.config, WebhookConfig)
    assert webhook.config.signing_secret == "whsec_legacy"


async def test_a_secret_no_key_opens_is_listed_and_left_as_it_was(app: Starlette) -> None:
    # given one secret sealed with a key the process no longer has, and one it has
    lost = (await make_tenant(box=OLD)).tenant_id
    await store_webhook(lost, SecretBox(["gone"]))
    kept = (await make_tenant(box=OLD)).tenant_id
    await store_webhook(kept, OLD)
    before = await stored_config(lost)

    report = await rotate_secrets(NEW)

    assert report.unreadable == [f"{lost} WEBHOOK signingSecret"]
    assert report.rotated == 1 + 2 * TENANT_SECRETS
    assert await stored_config(lost) == before  # opens again once the key is back
    assert await webhook_readiness(lost, SecretBox(["gone"])) == (True, None)


# --- tenants' signing secrets ----------------------------------------------------------------


async def test_a_signing_secret_in_its_grace_is_moved_to_the_newest_key_too(
    app: Starlette,
) -> None:
    # given a tenant whose secret was rotated, both sealed with the old key
    tenant_id = (await make_tenant(box=OLD)).tenant_id
    replaced = await signing_secret_of(tenant_id, OLD)
    await tenants.rotate_signing_secret(tenant_id=uuid.UUID(tenant_id), grace_seconds=3600, box=OLD)

    # when
    report = await rotate_secrets(NEW)

    # then the new key alone opens all three
    assert report.rotated == 1 + TENANT_SECRETS
    row = await Tenant.get(id=tenant_id)
    assert row.previous_signing_secret is not None
    assert SecretBox(["new"]).open(row.previous_signing_secret) == replaced
    assert await signing_secret_of(tenant_id, SecretBox(["new"]))


async def test_secrets_an_older_release_stored_in_clear_are_sealed(app: Starlette) -> None:
    # given a tenant row as a release before sealing wrote it
    tenant_id = (await make_tenant(box=OLD)).tenant_id
    secret = "stored-in-clear-" * 4
    await Tenant.filter(id=tenant_id).update(signing_secret=secret, erasure_key=secret)

    # when
    report = await rotate_secrets(NEW)

    # then neither column holds it in clear any more, and the key opens both
    assert (report.rotated, report.unreadable) == (TENANT_SECRETS, [])
    row = await Tenant.get(id=tenant_id)
    assert secret not in row.signing_secret and secret not in row.erasure_key
    assert NEW.open(row.signing_secret) == NEW.open(row.erasure_key) == secret


async def test_a_tenants_secret_no_key_opens_is_listed_and_left_as_it_was(
    app: Starlette,
) -> None:
    lost = (await make_tenant(box=SecretBox(["gone"]))).tenant_id
    before = await Tenant.get(id=lost).values_list("signing_secret", "erasure_key")

    report = await rotate_secrets(NEW)

    assert report.unreadable == [f"{lost} signingSecret", f"{lost} erasureKey"]
    assert await Tenant.get(id=lost).values_list("signing_secret", "erasure_key") == before
