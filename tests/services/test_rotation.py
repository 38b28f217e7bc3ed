"""`belfry rotate-secrets`' work: every stored secret moved to the newest key, none lost."""

import json
import uuid

from starlette.applications import Starlette

from app.crypto import SecretBox
from app.models import Channel, ChannelConfig
from app.services import channels
from app.services.rotation import rotate_secrets
from tests.helpers import legacy_seal, make_tenant, store_webhook

OLD, NEW = SecretBox(["old"]), SecretBox(["new", "old"])


async def stored_config(tenant_id: str) -> str:
    row = await ChannelConfig.get(tenant_id=tenant_id, channel=Channel.WEBHOOK)
    return row.config


async def webhook_readiness(tenant_id: str, box: SecretBox) -> tuple[bool, str | None]:
    views = await channels.list_channels(tenant_id=uuid.UUID(tenant_id), box=box)
    [webhook] = [v for v in views if v.channel is Channel.WEBHOOK]
    return webhook.readiness.ready, webhook.readiness.reason


async def test_rotating_moves_every_secret_to_the_newest_key(app: Starlette) -> None:
    # given two tenants' secrets sealed with the old key
    tenants = [(await make_tenant()).tenant_id for _ in range(2)]
    for tenant_id in tenants:
        await store_webhook(tenant_id, OLD)

    # when the new key goes in front and the secrets are rotated
    report = await rotate_secrets(NEW)

    # then each was re-encrypted, and the old key can go
    assert report.as_dict() == {"channels": 2, "rotated": 2, "current": 0, "unreadable": 0}
    for tenant_id in tenants:
        assert await webhook_readiness(tenant_id, SecretBox(["new"])) == (True, None)
        assert await webhook_readiness(tenant_id, OLD) == (False, "SECRET_UNREADABLE")


async def test_rotating_again_finds_everything_current_and_writes_nothing(app: Starlette) -> None:
    tenant_id = (await make_tenant()).tenant_id
    await store_webhook(tenant_id, OLD)
    await rotate_secrets(NEW)
    rotated = await stored_config(tenant_id)

    report = await rotate_secrets(NEW)

    assert report.as_dict() == {"channels": 1, "rotated": 0, "current": 1, "unreadable": 0}
    assert await stored_config(tenant_id) == rotated


async def test_rotating_reads_in_batches_and_misses_no_row(app: Starlette) -> None:
    tenants = [(await make_tenant()).tenant_id for _ in range(5)]
    for tenant_id in tenants:
        await store_webhook(tenant_id, OLD)

    report = await rotate_secrets(NEW, batch_size=2)

    assert (report.channels, report.rotated) == (5, 5)


async def test_secrets_of_the_first_format_are_rotated_too(app: Starlette) -> None:
    # given a secret written before keys could rotate
    tenant_id = (await make_tenant()).tenant_id
    await store_webhook(tenant_id, OLD)
    config = json.loads(await stored_config(tenant_id))
    config["signingSecret"] = legacy_seal("old", json.dumps("whsec_legacy"))
    await ChannelConfig.filter(tenant_id=tenant_id).update(config=json.dumps(config))

    report = await rotate_secrets(NEW)

    assert report.rotated == 1
    assert json.loads(await stored_config(tenant_id))["signingSecret"].startswith("enc:v2:")
    loaded = await channels.load(tenant_id=uuid.UUID(tenant_id), box=SecretBox(["new"]))
    assert loaded[Channel.WEBHOOK].config.signing_secret == "whsec_legacy"


async def test_a_secret_no_key_opens_is_listed_and_left_as_it_was(app: Starlette) -> None:
    # given one secret sealed with a key the process no longer has, and one it has
    lost = (await make_tenant()).tenant_id
    await store_webhook(lost, SecretBox(["gone"]))
    kept = (await make_tenant()).tenant_id
    await store_webhook(kept, OLD)
    before = await stored_config(lost)

    report = await rotate_secrets(NEW)

    assert report.unreadable == [f"{lost} WEBHOOK signingSecret"]
    assert report.rotated == 1
    assert await stored_config(lost) == before  # opens again once the key is back
    assert await webhook_readiness(lost, SecretBox(["gone"])) == (True, None)
