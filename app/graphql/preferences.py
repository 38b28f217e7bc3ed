from typing import Self

import strawberry

from app import models
from app.errors import Forbidden
from app.graphql.context import Info
from app.graphql.enums import Weekday
from app.graphql.permissions import ForAdmins, ForTenant, ForUsers
from app.models import Channel
from app.services import preferences as service
from app.services import quiet_hours, users


@strawberry.type
class ChannelSource:
    channel: Channel
    source: service.Source


@strawberry.type
class CategoryPreference:
    category: str
    scope: service.Scope
    in_app: bool | None
    email: bool | None
    sms: bool | None
    webhook: bool | None
    slack: bool | None
    telegram: bool | None
    sources: list[ChannelSource] = strawberry.field(
        description="EFFECTIVE scope: where each channel's value came from. Empty otherwise."
    )

    @classmethod
    def from_preference(cls, p: service.CategoryPreference) -> Self:
        v = p.values
        return cls(
            category=p.category,
            scope=p.scope,
            in_app=v[Channel.IN_APP],
            email=v[Channel.EMAIL],
            sms=v[Channel.SMS],
            webhook=v[Channel.WEBHOOK],
            slack=v[Channel.SLACK],
            telegram=v[Channel.TELEGRAM],
            sources=[ChannelSource(channel=c, source=s) for c, s in p.sources.items()],
        )


@strawberry.input
class PreferenceInput:
    """Fields left out (or null) stay as they are."""

    category: str
    in_app: bool | None = None
    email: bool | None = None
    sms: bool | None = None
    webhook: bool | None = None
    slack: bool | None = None
    telegram: bool | None = None

    def changes(self) -> dict[Channel, bool | None]:
        given = {
            Channel.IN_APP: self.in_app,
            Channel.EMAIL: self.email,
            Channel.SMS: self.sms,
            Channel.WEBHOOK: self.webhook,
            Channel.SLACK: self.slack,
            Channel.TELEGRAM: self.telegram,
        }
        return {channel: value for channel, value in given.items() if value is not None}


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
        description="Email, SMS, Slack and Telegram wait while they last; in-app arrives quiet.",
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
