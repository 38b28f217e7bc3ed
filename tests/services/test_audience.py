"""Who a publish reaches: named users first, then each team's members, each user once."""

from uuid import UUID

import pytest
from starlette.applications import Starlette

from app.errors import BadUserInput
from app.models import TeamRef
from app.services import audience, teams
from tests.helpers import make_tenant


async def given_team(tenant_id: UUID, key: str, members: list[str]) -> None:
    await teams.upsert(tenant_id=tenant_id, key=key, name=key.upper())
    await teams.set_members(tenant_id=tenant_id, key=key, external_ids=members)


async def test_named_users_come_first_then_each_teams_members_once(app: Starlette) -> None:
    tenant_id = UUID((await make_tenant()).tenant_id)
    await given_team(tenant_id, "ops", ["cy", "ann", "bob"])
    await given_team(tenant_id, "sales", ["bob", "dee"])

    reached = await audience.of(tenant_id, ["bob", " ed "], ["sales", "ops"])

    assert reached.external_ids == ["bob", "ed", "dee", "cy", "ann"]
    assert reached.teams == {
        "dee": TeamRef("sales", "SALES"),
        "cy": TeamRef("ops", "OPS"),
        "ann": TeamRef("ops", "OPS"),
    }


async def test_teams_count_towards_the_recipients_limit(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id = UUID((await make_tenant()).tenant_id)
    await given_team(tenant_id, "ops", ["ann", "bob"])
    monkeypatch.setattr(audience, "MAX_RECIPIENTS", 2)

    with pytest.raises(BadUserInput) as refused:
        await audience.of(tenant_id, ["cy"], ["ops"])

    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "teams"}
    assert "3 users" in str(refused.value)
