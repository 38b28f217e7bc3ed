from typing import Self

import strawberry
from strawberry.utils.str_converters import to_camel_case

from app import models
from app.errors import Forbidden
from app.graphql.channels import names
from app.graphql.context import Info
from app.graphql.enums import Weekday
from app.graphql.permissions import ForAdmins, ForTenant, ForUsers
from app.models import Channel
from app.services import preferences as service
from app.services import quiet_hours, users

# The channels that had a field of their own before `channels`, each named after it (inApp for
# IN_APP): kept, deprecated, for the clients that use them. Later channels are in `channels`.
FIELD_CHANNELS = (
    Channel.IN_APP,
    Channel.EMAIL,
    Channel.SMS,
    Channel.WEBHOOK,
    Channel.SLACK,
    Channel.TELEGRAM,
)


def _deprecation(channel: Channel) -> str:
    return f"Use channels, the entry for {channel.value}."


@strawberry.type
class ChannelSource:
    channel: Channel
    source: service.Source


@strawberry.type
class ChannelPreference:
    channel: Channel
    enabled: bool | None = strawberry.field(
        description="Null where this scope does not set it (TENANT, USER); never in EFFECTIVE."
    )


def _switch(channel: Channel) -> bool | None:
    """A deprecated per-channel field: the channel's entry, read again."""

    def resolve(root: "CategoryPreference") -> bool | None:
        return root.values[channel]

    field: bool | None = strawberry.field(
        resolver=resolve, deprecation_reason=_deprecation(channel)
    )
    return field


@strawberry.type
class CategoryPreference:
    category: str
    scope: service.Scope
    channels: list[ChannelPreference] = strawberry.field(
        description="Every channel, IN_APP included, in the order of the Channel enum."
    )
    sources: list[ChannelSource] = strawberry.field(
        description="EFFECTIVE scope: where each channel's value came from. Empty otherwise."
    )
    values: strawberry.Private[dict[Channel, bool | None]]
    in_app: bool | None = _switch(Channel.IN_APP)
    email: bool | None = _switch(Channel.EMAIL)
    sms: bool | None = _switch(Channel.SMS)
    webhook: bool | None = _switch(Channel.WEBHOOK)
    slack: bool | None = _switch(Channel.SLACK)
    telegram: bool | None = _switch(Channel.TELEGRAM)

    @classmethod
    def from_preference(cls, p: service.CategoryPreference) -> Self:
        return cls(
            category=p.category,
            scope=p.scope,
            channels=[ChannelPreference(channel=c, enabled=on) for c, on in p.values.items()],
            sources=[ChannelSource(channel=c, source=s) for c, s in p.sources.items()],
            values=p.values,
        )


@strawberry.input
class ChannelPreferenceInput:
    channel: Channel
    enabled: bool | None = strawberry.field(
        default=None,
        description="Null (or left out) clears it: this scope no longer sets the channel, and "
        "the level below decides.",
    )


def _switch_input(channel: Channel) -> bool | None:
    field: bool | None = strawberry.field(default=None, deprecation_reason=_deprecation(channel))
    return field


@strawberry.input(description="Channels left out stay as they are.")
class PreferenceInput:
    category: str
    channels: list[ChannelPreferenceInput] | None = strawberry.field(
        default=None, description="Each channel at most once."
    )
    in_app: bool | None = _switch_input(Channel.IN_APP)
    email: bool | None = _switch_input(Channel.EMAIL)
    sms: bool | None = _switch_input(Channel.SMS)
    webhook: bool | None = _switch_input(Channel.WEBHOOK)
    slack: bool | None = _switch_input(Channel.SLACK)
    telegram: bool | None = _switch_input(Channel.TELEGRAM)

    def changes(self) -> list[service.Change]:
        """The deprecated fields set a channel when true or false, and leave it when null."""
        given = [
            service.Change(entry.channel, entry.enabled, f"channels[{index}]")
            for index, entry in enumerate(self.channels or ())
        ]
        for channel in FIELD_CHANNELS:
            name = channel.value.lower()
            if (enabled := getattr(self, name)) is not None:
                given.append(service.Change(channel, enabled, to_camel_case(name)))
        return given


@strawberry.type
class PreferenceQuery:
    @strawberry.field(
        permission_classes=[ForTenant],
        description="TENANT: tenant-wide settings (the default). USER: the viewer's own. "
        "EFFECTIVE: what the viewer gets, catalogue < tenant < personal.",
    )
    async def preferences(
        self, info: Info, scope: service.Scope = service.Scope.TENANT
    ) -> list[CategoryPreference]:
        principal = info.context.require_principal()
        user_id = getattr(principal, "user_id", None)
        if scope is not service.Scope.TENANT and user_id is None:
            raise Forbidden(f"{scope.value} preferences belong to a user: use a user token")
        listing = await service.listing(tenant_id=principal.tenant_id, user_id=user_id, scope=scope)
        return [CategoryPreference.from_preference(p) for p in listing]


@strawberry.type(description="Local times; an end at or before the start ends the next day.")
class QuietHours:
    start: str
    end: str
    timezone: str = strawberry.field(description="The one they follow: theirs, or the user's.")
    days: list[Weekday] = strawberry.field(description="The days they start on.")
    enabled: bool

    @classmethod
    def from_model(cls, stored: models.QuietHours, user_timezone: str | None) -> Self:
        return cls(
            start=stored.start,
            end=stored.end,
            timezone=quiet_hours.followed(stored.timezone, user_timezone).key,
            days=[Weekday(d) for d in stored.days],
            enabled=stored.enabled,
        )


@strawberry.input
class QuietHoursInput:
    start: str = strawberry.field(description='A local time, "22:00".')
    end: str = strawberry.field(description='A local time, "07:30".')
    timezone: str | None = strawberry.field(
        default=None, description="An IANA name; by default the user's own timezone."
    )
    days: list[Weekday] | None = strawberry.field(default=None, description="Every day by default.")
    enabled: bool = True

    def settings(self) -> quiet_hours.Settings:
        days = tuple(d.value for d in self.days) if self.days is not None else quiet_hours.EVERY_DAY
        return quiet_hours.Settings(self.start, self.end, self.timezone, days, self.enabled)


@strawberry.type
class PreferenceMutation:
    @strawberry.mutation(permission_classes=[ForAdmins])
    async def update_tenant_preference(
        self, info: Info, input: PreferenceInput
    ) -> CategoryPreference:
        preference = await service.update_tenant(
            tenant_id=info.context.tenant_id, category=input.category, changes=input.changes()
        )
        return CategoryPreference.from_preference(preference)

    @strawberry.mutation(
        permission_classes=[ForUsers],
        description=f"{names(quiet_hours.HELD_CHANNELS)} wait while they last; in-app arrives "
        "quiet.",
    )
    async def update_my_quiet_hours(self, info: Info, input: QuietHoursInput) -> QuietHours:
        viewer = info.context.user
        stored = await quiet_hours.update(viewer.user_id, input.settings())
        user = await users.get_user(tenant_id=viewer.tenant_id, user_id=viewer.user_id)
        return QuietHours.from_model(stored, user.timezone)

    @strawberry.mutation(permission_classes=[ForUsers])
    async def update_my_preference(self, info: Info, input: PreferenceInput) -> CategoryPreference:
        viewer = info.context.user
        preference = await service.update_user(
            tenant_id=viewer.tenant_id,
            user_id=viewer.user_id,
            category=input.category,
            changes=input.changes(),
        )
        return CategoryPreference.from_preference(preference)
