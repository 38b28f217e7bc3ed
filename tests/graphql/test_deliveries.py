"""The delivery log's filters as the API takes them, and test notifications."""

from uuid import uuid4

import pytest

from app.models import Delivery
from tests.helpers import Api, TenantAccess, make_tenant, make_user, publish

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


SEND_TEST = """
mutation($input: TestNotificationInput) {
  sendTestNotification(input: $input) { jobId notificationIds }
}
"""
LINKS = "{ notifications { edges { node { title link } } } }"


async def test_a_test_notification_carries_its_link(api: Api, tenant: TenantAccess) -> None:
    # Given an owner
    owner = await make_user(api, tenant, "o", role="OWNER")

    # When they send themselves a test notification with a link
    await api.data(
        SEND_TEST, {"input": {"title": "Try me", "link": "/settings/channels"}}, token=owner.token
    )

    # Then it arrives with that link
    listed = await api.data(LINKS, token=owner.token)
    assert [e["node"] for e in listed["notifications"]["edges"]] == [
        {"title": "Try me", "link": "/settings/channels"}
    ]


@pytest.mark.parametrize("link", ["javascript:alert(document.domain)", "//evil.example/x"])
async def test_a_test_notification_with_an_unsafe_link_is_refused_and_sends_nothing(
    api: Api, tenant: TenantAccess, link: str
) -> None:
    # Given an owner
    owner = await make_user(api, tenant, "o", role="OWNER")

    # When they send a test notification whose link is not a web page's
    error = await api.error(SEND_TEST, {"input": {"link": link}}, token=owner.token)

    # Then it is refused naming the link, with no notification and no delivery
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "link"}
    assert (await api.data(LINKS, token=owner.token))["notifications"]["edges"] == []
    assert not await Delivery.exists(tenant_id=tenant.tenant_id)


DELETE_ONE = "mutation($id: ID!) { deleteDelivery(id: $id) }"


async def test_deleting_a_delivery_by_what_is_not_an_id_is_bad_user_input_and_keeps_the_log(
    api: Api, tenant: TenantAccess
) -> None:
    # Given a delivery log with a delivery in it
    await make_user(api, tenant, "alice")
    await publish(api, tenant, ["alice"])
    before = await Delivery.filter(tenant_id=tenant.tenant_id).count()

    # When the tenant deletes a delivery by something that is not an id
    error = await api.error(DELETE_ONE, {"id": "<id>"}, token=tenant.api_key)

    # Then the id is named as the mistake, and the log keeps every delivery
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert before and await Delivery.filter(tenant_id=tenant.tenant_id).count() == before


async def test_deleting_a_delivery_the_log_does_not_have_answers_true(
    api: Api, tenant: TenantAccess
) -> None:
    # Given a tenant
    # When it deletes a delivery by a well-formed id that names none of its deliveries
    deleted = await api.data(DELETE_ONE, {"id": str(uuid4())}, token=tenant.api_key)

    # Then that is no error: there is nothing to delete
    assert deleted == {"deleteDelivery": True}
