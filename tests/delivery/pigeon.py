"""A channel that exists in the test suite alone: carrier pigeons, which land as HTTP posts
at their loft. tests/delivery/providers/test_plugin.py installs it as a package would, and
only a process started with that package can import this module: its channel is not one of
Belfry's."""

from typing import ClassVar

from app.delivery.providers.base import (
    ConfigModel,
    HttpUrl,
    Message,
    NonEmptyStr,
    Provider,
    SendContext,
    SendResult,
    Target,
    TargetKind,
    http_send,
)
from app.models.channels import Channel


class PigeonConfig(ConfigModel):
    loft: HttpUrl
    ring: NonEmptyStr  # each pigeon wears it: the loft lets in no other


class PigeonProvider(Provider[PigeonConfig]):
    kind: ClassVar[Channel] = Channel("PIGEON")
    target_kind: ClassVar[TargetKind] = TargetKind.ENDPOINT
    held_by_quiet_hours: ClassVar[bool] = True
    member_testable: ClassVar[bool] = False
    config_model: ClassVar[type[PigeonConfig]] = PigeonConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"ring"})
    not_configured: ClassVar[str] = "PIGEON_NOT_CONFIGURED"
    target_field: ClassVar[str] = "loft"

    async def send(
        self, message: Message, target: Target, config: PigeonConfig, ctx: SendContext
    ) -> SendResult:
        note = {"title": message.title, "for": target.external_id}
        return await http_send(ctx, "POST", config.loft, json=note, headers={"x-ring": config.ring})
