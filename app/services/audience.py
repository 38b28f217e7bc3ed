"""Who a publish reaches: users named by external id (made on first use), and the members
of the teams it names, each user once."""

from collections.abc import Collection
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from app.db import as_uuid, batches, connection, is_in, placeholders
from app.errors import BadUserInput
from app.models import Team, TeamRef, User
from app.services.validation import check_category, check_external_id

MAX_RECIPIENTS = 10_000
MAX_TEAMS = 100  # named by one publish


@dataclass(frozen=True, slots=True)
class Audience:
    """External ids, each once, in order: the named recipients first, then the members of
    each team in the order the teams were named."""

    external_ids: list[str]
    teams: dict[str, TeamRef] = field(default_factory=dict)  # by external id; absent: named

    def team_by_user(self, user_ids: list[UUID]) -> dict[UUID, TeamRef]:
        """`teams` by user id, given the users of `external_ids` in their order."""
        if not self.teams:
            return {}
        return {
            user_id: team
            for external_id, user_id in zip(self.external_ids, user_ids, strict=True)
            if (team := self.teams.get(external_id)) is not None
        }


def checked(
    recipients: list[str], *, required: bool = True, field: str = "recipients"
) -> list[str]:
    """External ids, each once, in order; BadUserInput for a bad or missing one."""
    unique = list(dict.fromkeys(r.strip() for r in recipients))
    if required and not unique:
        raise BadUserInput(f"{field} must name at least one user", field=field)
    if len(unique) > MAX_RECIPIENTS:
        raise BadUserInput(f"At most {MAX_RECIPIENTS} {field} per call", field=field)
    for external_id in unique:
        check_external_id(external_id, field=field)
    return unique


def checked_team_keys(keys: list[str], *, field: str = "teams") -> list[str]:
    """Team keys, each once, in order; BadUserInput for a malformed one."""
    unique = list(dict.fromkeys(k.strip() for k in keys))
    if len(unique) > MAX_TEAMS:
        raise BadUserInput(f"At most {MAX_TEAMS} teams per call", field=field)
    for key in unique:
        check_category(key, field=field)
    return unique


async def of(
    tenant_id: UUID, recipients: list[str], team_keys: list[str], *, required: bool = True
) -> Audience:
    """The named recipients and the current members of the named teams (`required`: at least
    one of either). BadUserInput names an unknown team, or an audience above MAX_RECIPIENTS."""
    named = checked(recipients, required=required and not team_keys)
    keys = checked_team_keys(team_keys)
    if not keys:
        return Audience(named)
    teams = await _teams_by_key(tenant_id, keys)
    refs = {team.id: TeamRef(team.key, team.name) for team in teams}
    members = await _members(teams)
    known_users.add(tenant_id, {external_id: user_id for _, user_id, external_id in members})
    external_ids = list(named)
    through: dict[str, TeamRef] = {}
    seen = set(named)
    for team_id, _, external_id in members:
        if external_id not in seen:  # a user in two teams came through the first named
            seen.add(external_id)
            external_ids.append(external_id)
            through[external_id] = refs[team_id]
    if len(external_ids) > MAX_RECIPIENTS:
        raise BadUserInput(
            f"The recipients and teams reach {len(external_ids)} users; at most "
            f"{MAX_RECIPIENTS} per publish",
            field="teams",
        )
    return Audience(external_ids, through)


async def _teams_by_key(tenant_id: UUID, keys: list[str]) -> list[Team]:
    """The tenant's teams with these keys, in the order given; BadUserInput names those it
    does not have."""
    found = {t.key: t for t in await Team.filter(tenant_id=tenant_id, key__in=keys)}
    if unknown := [key for key in keys if key not in found]:
        raise unknown_teams(unknown, field="teams")
    return [found[key] for key in keys]


async def held_teams(tenant_id: UUID, keys: Collection[str]) -> set[str]:
    """Which of these keys the tenant has teams for, their rows locked until the transaction
    ends so that none is deleted before it does (in key order: two callers cannot deadlock)."""
    if not keys:
        return set()
    query = Team.filter(tenant_id=tenant_id, key__in=list(keys)).order_by("key")
    return {team.key for team in await query.select_for_update(no_key=True)}


def unknown_teams(keys: list[str], *, field: str) -> BadUserInput:
    return BadUserInput("No team with key " + ", ".join(repr(key) for key in keys), field=field)


async def _members(teams: list[Team]) -> list[tuple[UUID, UUID, str]]:
    """(team id, user id, external id) of the teams' members: team by team in the order
    given, each team's members in the order they joined."""
    conn = connection()
    condition, values = is_in(conn, "m.team_id", [str(t.id) for t in teams])
    # Plain SQL, as in resolve: a big team is thousands of rows.
    rows = await conn.execute_query(
        "SELECT m.team_id, m.user_id, u.external_id FROM team_members m "
        f"JOIN users u ON u.id = m.user_id WHERE {condition} ORDER BY m.created_at, m.id",
        values,
    )
    order = {team.id: i for i, team in enumerate(teams)}
    members = [(as_uuid(team), as_uuid(user), external) for team, user, external in rows[1]]
    members.sort(key=lambda member: order[member[0]])  # stable: joining order within a team
    return members


# --- external ids to users ----------------------------------------------------------------------


class _KnownUsers:
    """(tenant, external id) -> user id, for recipients seen before. A user never changes ids,
    but may be erased: every process then evicts the user (services.users follows erasures),
    and a publish that meets a user erased meanwhile forgets the tenant's entries and retries.
    Bounded by starting over when full."""

    def __init__(self, limit: int) -> None:
        self._ids: dict[tuple[UUID, str], UUID] = {}
        self._limit = limit

    def get(self, tenant_id: UUID, external_id: str) -> UUID | None:
        return self._ids.get((tenant_id, external_id))

    def add(self, tenant_id: UUID, found: dict[str, UUID]) -> None:
        if len(self._ids) + len(found) > self._limit:
            self._ids.clear()
        self._ids.update(((tenant_id, e), user_id) for e, user_id in found.items())

    def evict(self, tenant_id: UUID, external_id: str) -> None:
        self._ids.pop((tenant_id, external_id), None)

    def evict_tenant(self, tenant_id: UUID) -> None:
        for key in [key for key in self._ids if key[0] == tenant_id]:
            del self._ids[key]

    def clear(self) -> None:
        self._ids.clear()


known_users = _KnownUsers(limit=50_000)


def forget_user(tenant_id: UUID, external_id: str) -> None:
    """An erased user: the next publish to that external id looks it up (and makes it anew)."""
    known_users.evict(tenant_id, external_id)


def forget_all_users() -> None:
    """When erasures may have been missed (the hub lost messages)."""
    known_users.clear()


async def resolve(tenant_id: UUID, external_ids: list[str]) -> list[UUID]:
    """User ids in the order given; unknown external ids become new MEMBER users, in a
    statement of their own: a user is kept even if the publish then fails."""
    found: dict[str, UUID] = {}
    unknown = []
    for external_id in external_ids:
        if (user_id := known_users.get(tenant_id, external_id)) is not None:
            found[external_id] = user_id
        else:
            unknown.append(external_id)
    conn = connection()
    stored: dict[str, UUID] = {}
    for batch in batches(conn, unknown):
        condition, values = is_in(conn, "external_id", batch, start=1)
        # Plain SQL: values_list costs more in Python than the query in the database.
        rows = await conn.execute_query_dict(
            f"SELECT external_id, id FROM users WHERE tenant_id = {placeholders(conn, 1)[0]} "
            f"AND {condition}",
            [str(tenant_id), *values],
        )
        stored.update((row["external_id"], as_uuid(row["id"])) for row in rows)
    known_users.add(tenant_id, stored)  # committed rows only: new users wait for their commit
    found.update(stored)
    missing = [e for e in unknown if e not in found]
    if missing:
        new_users = [User(id=uuid4(), tenant_id=tenant_id, external_id=e) for e in missing]
        await User.bulk_create(new_users, batch_size=500)
        found.update((u.external_id, u.id) for u in new_users)
    return [found[e] for e in external_ids]
