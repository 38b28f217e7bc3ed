from typing import Self

import strawberry

from app import models
from app.graphql.context import Info
from app.graphql.permissions import ForAdmins, ForTenant
from app.services import catalog as service


@strawberry.type
class EventCategory:
    key: str
    group: str
    description: str
    default_channels: list[models.Channel]
    critical: bool = strawberry.field(description="In-app delivery cannot be switched off.")
    email_rate_limit_seconds: int | None = strawberry.field(
        description="At most one email per recipient in this window; null for no limit."
    )

    @classmethod
    def from_model(cls, category: models.EventCategory) -> Self:
        return cls(
            key=category.key,
            group=category.group,
            description=category.description,
            default_channels=[models.Channel(c) for c in category.default_channels],
            critical=category.critical,
            email_rate_limit_seconds=category.email_rate_limit_seconds,
        )


@strawberry.type
class EventCategoryGroup:
    name: str
    categories: list[EventCategory]


@strawberry.input
class EventCategoryInput:
    key: str
    group: str | None = None
    description: str | None = None
    default_channels: list[models.Channel] | None = None
    critical: bool | None = None
    email_rate_limit_seconds: int | None = strawberry.field(
        default=None, description="0 removes the limit."
    )


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        permission_classes=[ForTenant], description="The tenant's categories, grouped."
    )
    async def event_categories(self, info: Info) -> list[EventCategoryGroup]:
        groups = await service.grouped(tenant_id=info.context.tenant_id)
        return [
            EventCategoryGroup(name=name, categories=[EventCategory.from_model(c) for c in items])
            for name, items in groups
        ]


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(
        permission_classes=[ForAdmins],
        description="Add a category or change one; omitted fields stay.",
    )
    async def upsert_event_category(self, info: Info, input: EventCategoryInput) -> EventCategory:
        fields = service.CategoryFields(
            group=input.group,
            description=input.description,
            default_channels=input.default_channels,
            critical=input.critical,
            email_rate_limit_seconds=input.email_rate_limit_seconds,
        )
        category = await service.upsert(
            tenant_id=info.context.tenant_id, key=input.key, fields=fields
        )
        return EventCategory.from_model(category)
