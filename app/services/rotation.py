"""Re-encrypts every stored secret (channels', and tenants' signing secrets and erasure keys)
with the newest of BELFRY_SECRET_KEY's keys, so that the older keys can be dropped; tenants'
secrets stored in clear by releases before they were sealed are sealed."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tortoise.models import Model

from app.crypto import SecretBox, SecretUnreadable
from app.delivery.providers import REGISTRY
from app.models import Channel, ChannelConfig, Tenant

# A row changed by a request while being rotated is read again, up to this many times.
ATTEMPTS_PER_ROW = 5


# A tenant's sealed columns, as the unreadable list names them.
TENANT_SECRETS = {
    "signing_secret": "signingSecret",
    "previous_signing_secret": "previousSigningSecret",
    "erasure_key": "erasureKey",
}


@dataclass(slots=True)
class RotationReport:
    channels: int = 0  # channel configs read
    tenants: int = 0  # tenants read
    rotated: int = 0  # secrets re-encrypted with the newest key (or sealed, if in clear)
    current: int = 0  # secrets already sealed with it
    # "<tenant id> <CHANNEL> <key>", or "<tenant id> <secret>" for a tenant's own
    unreadable: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "channels": self.channels,
            "tenants": self.tenants,
            "rotated": self.rotated,
            "current": self.current,
            "unreadable": len(self.unreadable),
        }

    def add(self, counts: "RotationReport") -> None:
        self.rotated += counts.rotated
        self.current += counts.current
        self.unreadable += counts.unreadable


async def rotate_secrets(box: SecretBox, *, batch_size: int = 500) -> RotationReport:
    """Every channel config and every tenant, in batches by id. A secret none of the keys
    opens is left as it is and listed: rotating never loses one."""
    report = RotationReport()
    await _in_batches(
        ChannelConfig, batch_size, lambda row_id: _rotate_channel(box, row_id, report)
    )
    await _in_batches(Tenant, batch_size, lambda row_id: _rotate_tenant(box, row_id, report))
    return report


async def _in_batches(
    model: type[Model], batch_size: int, rotate: Callable[[Any], Awaitable[None]]
) -> None:
    after = None
    while True:
        page = model.all().order_by("id").limit(batch_size)
        if after is not None:
            page = page.filter(id__gt=after)
        ids = await page.values_list("id", flat=True)
        for row_id in ids:
            await rotate(row_id)
        if len(ids) < batch_size:
            return
        after = ids[-1]


async def _rotate_channel(box: SecretBox, row_id: Any, report: RotationReport) -> None:
    for _ in range(ATTEMPTS_PER_ROW):
        row = await ChannelConfig.get_or_none(id=row_id)
        if row is None:  # deleted meanwhile
            return
        counts = RotationReport()
        config = _resealed(box, row, counts)
        # Written only if nobody changed the row since it was read (compare and swap).
        if config == row.config or await ChannelConfig.filter(id=row_id, config=row.config).update(
            config=config
        ):
            report.channels += 1
            report.add(counts)
            return
    raise RuntimeError(f"channel config {row_id} kept changing while being rotated")


async def _rotate_tenant(box: SecretBox, row_id: Any, report: RotationReport) -> None:
    for _ in range(ATTEMPTS_PER_ROW):
        stored = await Tenant.filter(id=row_id).values(*TENANT_SECRETS)
        if not stored:  # deleted meanwhile
            return
        [was] = stored
        counts = RotationReport()
        now = {
            column: _resealed_value(box, was[column], counts, f"{row_id} {name}")
            for column, name in TENANT_SECRETS.items()
        }
        # Written only if nobody changed them since they were read (a signing secret rotated
        # meanwhile): compare and swap.
        if now == was or await Tenant.filter(id=row_id, **was).update(**now):
            report.tenants += 1
            report.add(counts)
            return
    raise RuntimeError(f"tenant {row_id} kept changing while being rotated")


def _resealed_value(
    box: SecretBox, stored: str | None, counts: RotationReport, name: str
) -> str | None:
    """A tenant's secret sealed with the newest key: as it was if it already is (or is none,
    or none of the keys opens it, which `counts` lists)."""
    if stored is None:
        return None
    if box.is_current(stored):
        counts.current += 1
        return stored
    try:
        resealed = box.seal(box.open_or_plain(stored))
    except SecretUnreadable:
        counts.unreadable.append(name)
        return stored
    counts.rotated += 1
    return resealed


def _resealed(box: SecretBox, row: ChannelConfig, counts: RotationReport) -> str:
    channel = Channel(row.channel)
    config = json.loads(row.config)
    for key in REGISTRY[channel].secret_fields:
        sealed = config.get(key)
        if sealed is None:
            continue
        if box.is_current(sealed):
            counts.current += 1
            continue
        try:
            config[key] = box.reseal(sealed)
        except SecretUnreadable:
            counts.unreadable.append(f"{row.tenant_id} {channel.value} {key}")
            continue
        counts.rotated += 1
    return row.config if not counts.rotated else json.dumps(config)
