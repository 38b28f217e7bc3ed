"""The in-app inbox. The publish writes it in its own transaction and live events announce
it, so there is nothing to send: the provider only states the channel's facts."""

from typing import ClassVar

from app.delivery.providers.base import (
    ConfigModel,
    Message,
    Provider,
    Readiness,
    SendContext,
    SendResult,
    Target,
    TargetKind,
    failed,
)
from app.models.channels import Channel


class NoConfig(ConfigModel):
    """The inbox has nothing to configure."""


class InAppProvider(Provider[NoConfig]):
    kind: ClassVar[Channel] = Channel.IN_APP
    target_kind: ClassVar[TargetKind] = TargetKind.INBOX
    # Notifications still arrive in quiet hours, marked quiet, so a client can skip the sound.
    held_by_quiet_hours: ClassVar[bool] = False
    member_testable: ClassVar[bool] = True
    configurable: ClassVar[bool] = False
    config_model: ClassVar[type[NoConfig]] = NoConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    not_configured: ClassVar[str] = ""
    target_field: ClassVar[str] = ""

    def readiness(self, config: NoConfig | None) -> Readiness:
        return Readiness(ready=True)

    async def send(
        self, message: Message, target: Target, config: NoConfig, ctx: SendContext
    ) -> SendResult:
        # Never queued: its deliveries are written SENT (or SUPPRESSED) by the publish.
        return failed("in-app notifications are written by the publish, not sent")
