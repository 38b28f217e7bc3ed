"""Re-encrypts every stored channel secret with the newest of BELFRY_SECRET_KEY's keys, so
that the older keys can be dropped."""

import json
from dataclasses import dataclass, field
from typing import Any

from app.crypto import SecretBox, SecretUnreadable
from app.delivery.providers import REGISTRY
from app.models import Channel, ChannelConfig

# A row changed by a request while being rotated is read again, up to this many times.
ATTEMPTS_PER_ROW = 5


@dataclass(slots=True)
class RotationReport:
    channels: int = 0  # channel configs read
    rotated: int = 0  # secrets re-encrypted with the newest key
    current: int = 0  # secrets already sealed with it
    unreadable: list[str] = field(default_factory=list)  # "<tenant id> <CHANNEL> <key>"

    def as_dict(self) -> dict[str, Any]:
        return {
            "channels": self.channels,
            "rotated": self.rotated,
            "current": self.current,
            "unreadable": len(self.unreadable),
        }


async def rotate_secrets(box: SecretBox, *, batch_size: int = 500) -> RotationReport:
    """Every channel config, in batches by id. A secret none of the keys opens is left as it
    is and listed: rotating never loses one."""
    report = RotationReport()
    after = None
    while True:
        page = ChannelConfig.all().order_by("id").limit(batch_size)
        if after is not None:
            page = page.filter(id__gt=after)
        ids = await page.values_list("id", flat=True)
        for row_id in ids:
            await _rotate_row(box, row_id, report)
        if len(ids) < batch_size:
            return report
        after = ids[-1]


async def _rotate_row(box: SecretBox, row_id: Any, report: RotationReport) -> None:
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
            report.rotated += counts.rotated
            report.current += counts.current
            report.unreadable += counts.unreadable
            return
    raise RuntimeError(f"channel config {row_id} kept changing while being rotated")


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
