"""The delivery log's filters as the API takes them."""

import pytest

from tests.helpers import Api, make_tenant

LOG = "query($filter: DeliveryFilter) { deliveries(filter: $filter) { totalCount } }"


@pytest.mark.parametrize(
    ("given", "field"), [({"jobId": "j" * 65}, "jobId"), ({"category": "c" * 101}, "category")]
)
async def test_a_filter_longer_than_its_column_is_bad_user_input(api: Api, given, field) -> None:
    tenant = await make_tenant()

    error = await api.error(LOG, {"filter": given}, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_a_filter_at_its_columns_width_finds_nothing_quietly(api: Api) -> None:
    tenant = await make_tenant()

    found = await api.data(LOG, {"filter": {"jobId": "j" * 64}}, token=tenant.api_key)

    assert found["deliveries"]["totalCount"] == 0
