from collections.abc import Iterable
from typing import Any, Self, cast

import strawberry
from strawberry.scalars import JSON

from app import models
from app.auth import Principal, UserPrincipal
from app.delivery.providers.base import SendContext, Target, outgoing_client
from app.graphql.context import Info
from app.graphql.permissions import ForAdmins
from app.services import channels as service
from app.services import users


def names(channels: Iterable[models.Channel]) -> str:
    """`channels` for a description, in the enum's order: "EMAIL, SMS and SLACK"."""
    listed = [c.value for c in models.Channel if c in set(channels)]
    return ", ".join(listed[:-1]) + " and " + listed[-1] if len(listed) > 1 else "".join(listed)


@strawberry.type
class ChannelConfig:
    channel: models.Channel
    enabled: bool
    config: JSON = strawberry.field(description="Secret values come back as ********.")
    ready: bool
    reason: str | None = strawberry.field(description="Why not ready, e.g. SMTP_NOT_CONFIGURED.")

    @classmethod
    def from_view(cls, view: service.ChannelView) -> Self:
        return cls(
            channel=view.channel,
            enabled=view.enabled,
            config=cast(JSON, view.config),
            ready=view.readiness.ready,
            reason=view.readiness.reason,
        )


@strawberry.input
class ChannelConfigInput:
    enabled: bool | None = None
    config: JSON | None = strawberry.field(
        default=None,
        description="Replaces the config; a secret left out or sent as ******** stays.",
    )


@strawberry.type
class ChannelQuery:
    @strawberry.field(permission_classes=[ForAdmins])
    async def channels(self, info: Info) -> list[ChannelConfig]:
        box = info.context.settings.secret_box
        views = await service.list_channels(tenant_id=info.context.tenant_id, box=box)
        return [ChannelConfig.from_view(v) for v in views]


@strawberry.type
class ChannelMutation:
    @strawberry.mutation(permission_classes=[ForAdmins])
    async def update_channel(
        self, info: Info, channel: models.Channel, input: ChannelConfigInput
    ) -> ChannelConfig:
        view = await service.update(
            tenant_id=info.context.tenant_id,
            channel=channel,
            enabled=input.enabled,
            config=cast(dict[str, Any] | None, input.config),
            box=info.context.settings.secret_box,
            allow_private_targets=info.context.settings.allow_private_targets,
        )
        return ChannelConfig.from_view(view)

    @strawberry.mutation(
        permission_classes=[ForAdmins],
        description="Send a real test message: email and SMS to the calling user's own address "
        "(email to the sender address for an API key), the rest to the configured endpoint.",
    )
    async def test_channel(
        self, info: Info, channel: models.Channel, config: JSON | None = None
    ) -> bool:
        settings = info.context.settings
        principal = info.context.require_principal()
        target = await _target_of(principal)
        async with outgoing_client() as http:
            return await service.send_test(
                tenant_id=principal.tenant_id,
                channel=channel,
                config=cast(dict[str, Any] | None, config),
                target=target,
                box=settings.secret_box,
                context=SendContext(
                    http=http,
                    allow_private_targets=settings.allow_private_targets,
                    timeout=settings.delivery_timeout_seconds,
                ),
            )


async def _target_of(principal: Principal) -> Target:
    if isinstance(principal, UserPrincipal):
        return Target.of(
            await users.get_user(tenant_id=principal.tenant_id, user_id=principal.user_id)
        )
    return Target()
