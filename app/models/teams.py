from dataclasses import dataclass
from typing import Self
from uuid import UUID

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.tenants import Tenant
from app.models.users import User


class Team(Model):
    """A named group of the tenant's users, which a publish or a rule names instead of
    listing every member."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "belfry.Tenant", related_name="teams", on_delete=fields.CASCADE
    )
    tenant_id: UUID
    key = fields.CharField(max_length=100)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "teams"
        unique_together = (("tenant", "key"),)


class TeamMember(Model):
    """One user in one team. A user may be in many teams."""

    id = fields.UUIDField(primary_key=True)
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "belfry.Team", related_name="members", on_delete=fields.CASCADE
    )
    team_id: UUID
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "belfry.User", related_name="team_memberships", on_delete=fields.CASCADE
    )
    user_id: UUID
    created_at = fields.DatetimeField()  # members are listed in the order they joined

    class Meta:
        table = "team_members"
        unique_together = (("team", "user"),)
        indexes = [
            Index(fields=("team_id", "created_at", "id"), name="ix_member_order"),
            Index(fields=("user_id",), name="ix_member_user"),  # a user's erasure finds them
        ]


@dataclass(frozen=True, slots=True)
class TeamRef:
    """The team a notification's recipient was reached through, as it was named then: kept
    on the notification, so that renaming or deleting the team later changes no inbox."""

    key: str
    name: str

    @classmethod
    def of(cls, key: str | None, name: str | None) -> Self | None:
        """From a notification's team_key and team_name."""
        return None if key is None else cls(key, name or key)

    @staticmethod
    def columns(team: "TeamRef | None") -> dict[str, str | None]:
        """team_key and team_name, as a notification stores them."""
        return NO_TEAM if team is None else {"team_key": team.key, "team_name": team.name}


NO_TEAM: dict[str, str | None] = {"team_key": None, "team_name": None}  # made once: the usual case
