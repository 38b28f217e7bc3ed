from typing import Self
from uuid import UUID

import strawberry
from strawberry.relay import PageInfo

from app import models
from app.graphql.context import Info
from app.graphql.pagination import edges, page_info, page_request
from app.graphql.permissions import ForAdmins
from app.graphql.users import User
from app.services import teams as service


@strawberry.type(
    description="The team a notification's recipient was reached through, as it was named "
    "then; null for recipients named directly."
)
class TeamRef:
    key: str
    name: str

    @classmethod
    def of(cls, team: models.TeamRef | None) -> Self | None:
        return None if team is None else cls(key=team.key, name=team.name)


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class Team:
    key: str
    name: str
    member_count: int
    team_id: strawberry.Private[UUID]

    @strawberry.field(description="In the order they joined.")
    async def members(self, first: int | None = None, after: str | None = None) -> UserConnection:
        page = await service.members(team_id=self.team_id, request=page_request(first, after))
        return UserConnection(
            edges=edges(page, UserEdge, User.from_model),
            page_info=page_info(page),
            total_count=self.member_count,  # counted with the team already
        )

    @classmethod
    def of(cls, team: models.Team, member_count: int) -> Self:
        return cls(key=team.key, name=team.name, member_count=member_count, team_id=team.id)

    @classmethod
    async def counted(cls, team: models.Team) -> Self:
        return cls.of(team, await service.member_count(team.id))

    @classmethod
    async def listed(cls, tenant_id: UUID) -> list[Self]:
        return [
            cls.of(each.team, each.member_count)
            for each in await service.list_teams(tenant_id=tenant_id)
        ]


@strawberry.input
class UpsertTeamInput:
    key: str = strawberry.field(
        description="Named by publishes (teams) and rules (team:KEY): 1-100 letters, digits, "
        "'.', '_', ':' or '-'."
    )
    name: str


@strawberry.type
class TeamQuery:
    @strawberry.field(permission_classes=[ForAdmins], description="The tenant's teams, by key.")
    async def teams(self, info: Info) -> list[Team]:
        return await Team.listed(info.context.tenant_id)


@strawberry.type
class TeamMutation:
    @strawberry.mutation(
        permission_classes=[ForAdmins], description="Create a team, or rename it by its key."
    )
    async def upsert_team(self, info: Info, input: UpsertTeamInput) -> Team:
        team = await service.upsert(
            tenant_id=info.context.tenant_id, key=input.key, name=input.name
        )
        return await Team.counted(team)

    @strawberry.mutation(
        permission_classes=[ForAdmins],
        description="False when there was no such team. Notifications keep the team they came "
        "through; a team that rules send to is refused.",
    )
    async def delete_team(self, info: Info, key: str) -> bool:
        return await service.delete(tenant_id=info.context.tenant_id, key=key)

    @strawberry.mutation(
        permission_classes=[ForAdmins],
        description="Exactly these users (made if new); for later publishes only.",
    )
    async def set_team_members(self, info: Info, key: str, external_ids: list[str]) -> Team:
        team = await service.set_members(
            tenant_id=info.context.tenant_id, key=key, external_ids=external_ids
        )
        return await Team.counted(team)

    @strawberry.mutation(
        permission_classes=[ForAdmins], description="These users too (made if new)."
    )
    async def add_team_members(self, info: Info, key: str, external_ids: list[str]) -> Team:
        team = await service.add_members(
            tenant_id=info.context.tenant_id, key=key, external_ids=external_ids
        )
        return await Team.counted(team)

    @strawberry.mutation(
        permission_classes=[ForAdmins], description="Not these users; non-members are no error."
    )
    async def remove_team_members(self, info: Info, key: str, external_ids: list[str]) -> Team:
        team = await service.remove_members(
            tenant_id=info.context.tenant_id, key=key, external_ids=external_ids
        )
        return await Team.counted(team)
