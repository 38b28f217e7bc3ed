"""GraphQL over HTTP as the specification's current draft has it: the
application/graphql-response+json media type with its status codes, application/json as
before, GET for queries; checked by graphql-http's own audit from Node as well."""

from typing import Any

import httpx
import pytest

from app.graphql import limits
from tests.conftest import LiveServer
from tests.helpers import Api, make_tenant
from tests.node import run_node

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def post(api: Api, body: dict[str, Any], accept: str) -> httpx.Response:
    return await api.client.post("/graphql", json=body, headers={"accept": accept})


def request_error(response: httpx.Response) -> dict[str, Any]:
    """The error of a request GraphQL refused before running it: 400, errors, no data."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert set(body) == {"errors"}, body
    error: dict[str, Any] = body["errors"][0]
    return error


# --- application/graphql-response+json -------------------------------------------------------


async def test_a_client_asking_for_graphql_response_json_gets_it(live_api: Api) -> None:
    response = await post(live_api, {"query": "{ __typename }"}, GRAPHQL_RESPONSE)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_document_that_does_not_parse_is_400_without_data(live_api: Api) -> None:
    response = await post(live_api, {"query": "{ notifications { "}, GRAPHQL_RESPONSE)

    assert request_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_document_that_does_not_validate_is_400_without_data(live_api: Api) -> None:
    response = await post(live_api, {"query": "{ nope }"}, GRAPHQL_RESPONSE)

    assert "nope" in request_error(response)["message"]


async def test_variables_of_the_wrong_type_are_400_without_data(live_api: Api) -> None:
    body = {"query": "query($id: ID!) { notification(id: $id) { id } }", "variables": {"id": []}}

    response = await post(live_api, body, GRAPHQL_RESPONSE)

    assert "$id" in request_error(response)["message"]


async def test_a_document_over_the_limits_is_400_without_data(live_api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"

    response = await post(live_api, {"query": query}, GRAPHQL_RESPONSE)

    assert request_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_execution_error_with_partial_data_is_200(live_api: Api) -> None:
    # given a query one of whose nullable fields fails (no credentials)
    query = '{ __typename notification(id: "1") { id } }'

    response = await post(live_api, {"query": query}, GRAPHQL_RESPONSE)

    # then the rest of the data comes with the error
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"__typename": "Query", "notification": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_failure_of_the_server_before_execution_is_500_not_400(
    live_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a fault in Belfry itself while it checks the document
    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(limits, "measure", broken)

    response = await post(live_api, {"query": "{ __typename }"}, GRAPHQL_RESPONSE)

    # then the client is not told that its request was at fault
    assert response.status_code == 500, response.text
    assert set(response.json()) == {"errors"}
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


async def test_a_failure_of_the_server_before_execution_is_masked_in_json_too(
    live_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(limits, "measure", broken)

    error = await live_api.error("{ __typename }")

    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret internals" not in str(error)


async def test_a_refusal_before_graphql_runs_is_of_the_media_type_asked_for(
    live_api: Api,
) -> None:
    response = await live_api.client.post(
        "/graphql",
        content=b"{not json",
        headers={"content-type": "application/json", "accept": GRAPHQL_RESPONSE},
    )

    assert request_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0, */*", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
    ],
)
async def test_the_media_type_follows_the_accept_headers_preferences(
    live_api: Api, accept: str, media_type: str
) -> None:
    response = await post(live_api, {"query": "{ nope }"}, accept)

    assert response.headers["content-type"].startswith(media_type)
    assert response.status_code == (400 if media_type == GRAPHQL_RESPONSE else 200)


# --- application/json, as before -------------------------------------------------------------


async def test_application_json_answers_graphql_errors_with_200_as_before(live_api: Api) -> None:
    response = await post(live_api, {"query": "{ nope }"}, "application/json")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] is None


# --- GET -------------------------------------------------------------------------------------


async def test_a_query_can_be_sent_with_get(live_api: Api) -> None:
    response = await live_api.client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"accept": GRAPHQL_RESPONSE}
    )

    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


async def test_a_mutation_sent_with_get_is_405_allowing_post(live_api: Api) -> None:
    tenant = await make_tenant()
    response = await live_api.client.get(
        "/graphql",
        params={"query": 'mutation { upsertUser(input: {externalId: "x"}) { id } }'},
        headers={"authorization": f"Bearer {tenant.api_key}"},
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- graphql-http's audit --------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_graphql_http_audits_find_nothing_to_fix(server: LiveServer) -> None:
    # given a signed-in client, as every real one is (the API serves little to anyone else)
    tenant = await make_tenant()

    # when graphql-http runs every server audit of the specification against Belfry
    found = await run_node("audit.mjs", f"{server.http_url}/graphql", tenant.api_key)

    # then none fails, not even a recommendation
    failing = [f"{a['name']}: {a['reason']}" for a in found["error"] + found["warn"]]
    assert not failing, "\n".join(failing)
    assert found["ok"], found
