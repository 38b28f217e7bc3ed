"""DateTime input: a time that cannot be compared in UTC is refused as the client's mistake;
any other offset names the same instant in UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.helpers import Api, make_tenant, make_user, publish

LOG = "query($before: DateTime) { deliveries(filter: {before: $before}) { totalCount } }"
DELETE = "mutation($before: DateTime) { deleteDeliveries(filter: {before: $before}) { deleted } }"
AT_THE_ENDS = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]


@pytest.mark.parametrize("before", AT_THE_ENDS)
@pytest.mark.parametrize("query", [LOG, DELETE], ids=["deliveries", "deleteDeliveries"])
@pytest.mark.parametrize("as_literal", [False, True], ids=["variable", "literal"])
async def test_a_time_outside_the_calendar_in_utc_is_bad_user_input(
    api: Api, before: str, query: str, as_literal: bool
) -> None:
    # given a tenant; when it names a time whose UTC falls before year 1 or after 9999
    tenant = await make_tenant()
    if as_literal:
        query = (
            query.replace("$before: DateTime", "")
            .replace("()", "")
            .replace("$before", f'"{before}"')
        )

    error = await api.error(query, None if as_literal else {"before": before}, tenant.api_key)

    # then it is told so, not answered with an unexpected error
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "UTC" in error["message"]


async def test_a_time_with_an_offset_names_its_instant(api: Api) -> None:
    # given a delivery made now
    tenant = await make_tenant()
    alice = await make_user(api, tenant)
    await publish(api, tenant, [alice.external_id])
    now = datetime.now(UTC)

    # when the log is filtered a minute either side of now, written at other offsets
    def at(when: datetime, hours: int) -> str:
        return when.astimezone(timezone(timedelta(hours=hours))).isoformat()

    later = await api.data(LOG, {"before": at(now + timedelta(minutes=1), 5)}, tenant.api_key)
    earlier = await api.data(LOG, {"before": at(now - timedelta(minutes=1), -5)}, tenant.api_key)

    # then the delivery is before the one and not the other
    assert later["deliveries"]["totalCount"] == 1
    assert earlier["deliveries"]["totalCount"] == 0


async def test_a_time_without_an_offset_is_utc(api: Api) -> None:
    # given a delivery made now
    tenant = await make_tenant()
    alice = await make_user(api, tenant)
    await publish(api, tenant, [alice.external_id])
    now = datetime.now(UTC).replace(tzinfo=None)

    # when the log is filtered a minute either side of now in UTC, written without an offset
    later = await api.data(
        LOG, {"before": (now + timedelta(minutes=1)).isoformat()}, tenant.api_key
    )
    earlier = await api.data(
        LOG, {"before": (now - timedelta(minutes=1)).isoformat()}, tenant.api_key
    )

    # then the delivery is before the one and not the other
    assert later["deliveries"]["totalCount"] == 1
    assert earlier["deliveries"]["totalCount"] == 0
