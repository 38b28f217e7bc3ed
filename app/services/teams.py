"""The tenant's teams: named groups of users that a publish or a rule addresses instead of
listing every member. A publish reaches the members a team has then; changes to a team
apply to later publishes only."""

from dataclasses import dataclass
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from app import clock
from app.db import new_ids
from app.errors import BadUserInput, NotFound
from app.models import Rule, Team, TeamMember, User
from app.services import audience, rules
from app.services.pagination import Page, PageRequest, soonest_first
from app.services.validation import check_category, check_length

ATTEMPTS = 3
EXTERNAL_IDS = "externalIds"  # the argument that names members


@dataclass(frozen=True, slots=True)
class Listed:
    team: Team
    member_count: int


async def upsert(*, tenant_id: UUID, key: str, name: str) -> Team:
    """Creates the team, or renames it. The name is what later notifications record."""
    check_category(key, field="key")
    check_length("name", name, 200, required=True)
    team, created = await Team.get_or_create(
        tenant_id=tenant_id, key=key, defaults={"name": name.strip()}
    )
    if not created and team.name != name.strip():
        team.name = name.strip()
        await team.save(update_fields=["name", "updated_at"])
    return team


async def get(*, tenant_id: UUID, key: str) -> Team:
    team = await Team.get_or_none(tenant_id=tenant_id, key=key)
    if team is None:
        raise NotFound(f"No team with key {key!r}")
    return team


async def list_teams(*, tenant_id: UUID) -> list[Listed]:
    """The tenant's teams by key, each with its number of members."""
    teams = (
        await Team.filter(tenant_id=tenant_id)
        .annotate(member_count=Count("members"))
        .order_by("key")
    )
    return [Listed(team, team.member_count) for team in teams]  # type: ignore[attr-defined]


async def member_count(team_id: UUID) -> int:
    return await TeamMember.filter(team_id=team_id).count()


async def members(*, team_id: UUID, request: PageRequest) -> Page[User]:
    """The team's members in the order they joined."""
    query = TeamMember.filter(team_id=team_id).prefetch_related("user")
    page = await soonest_first(query, request, "created_at")
    return page.map(lambda member: member.user)


async def delete(*, tenant_id: UUID, key: str) -> bool:
    """False when there was no such team. A team that a rule sends to is kept: the rule would
    reach nobody through it. The team is locked before the rules are read, so a rule being
    saved with it (which holds it) is either seen here or finds it gone."""
    async with in_transaction():
        team = await Team.filter(tenant_id=tenant_id, key=key).select_for_update().first()
        if team is None:
            return False
        if naming := [
            rule.name for rule in await Rule.filter(tenant_id=tenant_id) if _names(rule, key)
        ]:
            raise BadUserInput(
                f"Rules send to team:{key}: "
                + ", ".join(repr(n) for n in naming)
                + "; take it out of their actions first",
                field="key",
            )
        await TeamMember.filter(team_id=team.id).delete()
        await team.delete()
    return True


def _names(rule: Rule, key: str) -> bool:
    return any(key in rules.team_keys(action) for action in rule.actions)


# --- membership -------------------------------------------------------------------------------


async def set_members(*, tenant_id: UUID, key: str, external_ids: list[str]) -> Team:
    """Exactly these users, made if Belfry has not seen them; members who stay keep their
    place."""
    return await _join(tenant_id, key, external_ids, only=True)


async def add_members(*, tenant_id: UUID, key: str, external_ids: list[str]) -> Team:
    """These users too, made if Belfry has not seen them; members already there keep their
    place."""
    return await _join(tenant_id, key, external_ids, only=False)


async def remove_members(*, tenant_id: UUID, key: str, external_ids: list[str]) -> Team:
    """Not these users any more; those not in the team are no error."""
    unwanted = audience.checked(external_ids, required=False, field=EXTERNAL_IDS)
    team = await get(tenant_id=tenant_id, key=key)
    user_ids = await User.filter(tenant_id=tenant_id, external_id__in=unwanted).values_list(
        "id", flat=True
    )
    async with in_transaction():
        await _hold(team)
        await TeamMember.filter(team_id=team.id, user_id__in=user_ids).delete()
    return team


async def _join(tenant_id: UUID, key: str, external_ids: list[str], *, only: bool) -> Team:
    """Adds the users not members yet, in the order given; `only` removes the others, in the
    same transaction. A concurrent add of the same user is no error (the unique (team, user)
    index keeps one row); a user made or erased meanwhile is looked up afresh."""
    wanted = audience.checked(external_ids, required=False, field=EXTERNAL_IDS)
    team = await get(tenant_id=tenant_id, key=key)
    for attempt in range(ATTEMPTS):
        try:
            user_ids = await audience.resolve(tenant_id, wanted)
            async with in_transaction():
                await _hold(team)
                if only:
                    await TeamMember.filter(team_id=team.id).exclude(user_id__in=user_ids).delete()
                await _add(team.id, user_ids)
            return team
        except IntegrityError:
            audience.known_users.evict_tenant(tenant_id)
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _hold(team: Team) -> None:
    """Locks the team's row for the rest of the transaction, before any of its members' rows,
    as deleteTeam does (the other order could deadlock with it); NotFound if it is gone."""
    if await Team.filter(id=team.id).select_for_update(no_key=True).first() is None:
        raise NotFound(f"No team with key {team.key!r}")


async def _add(team_id: UUID, user_ids: list[UUID]) -> None:
    now = clock.now()
    rows = [
        TeamMember(id=member_id, team_id=team_id, user_id=user_id, created_at=now)
        # Sorted, the ids list the members of one call in the order given.
        for user_id, member_id in zip(user_ids, sorted(new_ids(len(user_ids))), strict=True)
    ]
    await TeamMember.bulk_create(rows, batch_size=500, ignore_conflicts=True)
