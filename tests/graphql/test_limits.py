"""What one GraphQL request may ask: its document's length and tokens, its cost, text the
databases cannot store; and which valid documents are remembered, and how many."""

import json
import time
import uuid

import pytest
from graphql import get_introspection_query

from app.graphql.limits import ValidDocuments, valid_documents
from app.settings import Settings
from tests.helpers import PUBLISH, Api, TenantAccess, UserAccess

VIEWER = "{ viewer { id } }"
PAGE = "deliveries(first: 200) { edges { node { id status notification { id title } } } }"
PAGE_COST = 1 + 200 * (1 + 1 + 1 + 1 + (1 + 2))  # deliveries, edges, node, id, status, ...
INBOX = "query($n: Int) { notifications(first: $n) { edges { node { id title } } } }"


def unique(query: str) -> str:
    """The same operation with a comment no other test writes: a document never seen before."""
    return f"{query} # {uuid.uuid4().hex}"


def remembered(settings: Settings) -> ValidDocuments:
    return valid_documents(settings.validation_cache_bytes)


# --- before parsing --------------------------------------------------------------------------


async def test_a_document_longer_than_the_limit_is_refused_before_parsing(api: Api) -> None:
    query = VIEWER + " #" + "x" * 16_384  # a comment: nothing a parser would object to

    error = await api.error(query)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": "maxDocumentChars"}
    assert "16384" in error["message"]


async def test_twenty_33_kb_documents_are_refused_and_not_remembered(
    api: Api, alice: UserAccess, settings: Settings
) -> None:
    before = set(remembered(settings))

    for i in range(20):
        query = f"query Big{i}{uuid.uuid4().hex} {{" + " viewer{id}" * 3000 + "}"
        error = await api.error(query, token=alice.token)
        assert error["extensions"]["limit"] == "maxDocumentChars"

    assert set(remembered(settings)) <= before | {VIEWER}


async def test_a_document_with_more_tokens_than_the_limit_is_refused(api: Api) -> None:
    query = "{" + " __typename" * 1000 + " }"  # 1,002 tokens in 11,000 characters

    error = await api.error(query)

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "1000 tokens" in error["message"]


async def test_a_document_just_within_the_token_limit_runs(api: Api, alice: UserAccess) -> None:
    listed = ", ".join(['"a.b"'] * 984)  # 1,000 tokens with the rest
    query = f"{{ notifications(filter: {{categories: [{listed}]}}) {{ totalCount }} }}"

    assert (await api.data(query, token=alice.token))["notifications"]["totalCount"] == 0


# --- unstorable text -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
async def test_a_nul_in_a_variable_is_refused_naming_it(
    api: Api, tenant: TenantAccess, alice: UserAccess, text: str
) -> None:
    variables = {"input": {"recipients": ["alice"], "category": "a.b", "title": text}}

    error = await api.error(PUBLISH, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.title"}
    assert (await api.data("{ unreadCount }", token=alice.token))["unreadCount"] == 0


async def test_a_nul_in_a_json_key_is_refused(api: Api, tenant: TenantAccess) -> None:
    data = {"ok": [1, {"bad\x00key": 2}]}
    variables = {"input": {"recipients": ["a"], "category": "a.b", "title": "T", "data": data}}

    error = await api.error(PUBLISH, variables, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.data.ok[1].bad?key"}


async def test_an_unpaired_surrogate_in_a_variable_is_refused(
    api: Api, tenant: TenantAccess
) -> None:
    query = "mutation($id: String!) { upsertUser(input: {externalId: $id}) { id } }"
    body = json.dumps({"query": query, "variables": {"id": "a"}}).replace('"a"', '"a\\ud800b"')

    response = await api.raw(body, token=tenant.api_key)

    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


async def test_a_nul_escaped_in_a_string_literal_is_refused(api: Api, tenant: TenantAccess) -> None:
    query = 'mutation { upsertUser(input: {externalId: "a\\u0000b"}) { id } }'

    error = await api.error(query, token=tenant.api_key)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "externalId"}


# Python refuses to read an integer of more than 4,300 digits (a guard against quadratic work).
HUGE_NUMBER = "1" * 5000


async def test_an_integer_literal_of_5000_digits_is_bad_user_input(api: Api) -> None:
    # Given a document whose page size is a number longer than Python reads
    query = "{ notifications(first: " + HUGE_NUMBER + ") { totalCount } }"

    # When it is sent, without credentials
    error = await api.error(query)

    # Then it is refused as the client's mistake, not answered as an unexpected error
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_json_literal_holding_a_number_of_5000_digits_is_bad_user_input(
    api: Api, tenant: TenantAccess
) -> None:
    # Given a publish whose data, written in the document, holds a number longer than Python reads
    query = (
        'mutation { publishNotification(input: {recipients: ["alice"], category: "a.b", '
        'title: "t", data: {x: ' + HUGE_NUMBER + "}}) { count } }"
    )

    # When the tenant sends it
    error = await api.error(query, token=tenant.api_key)

    # Then it is refused as the client's mistake
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


# --- cost ------------------------------------------------------------------------------------


async def test_a_query_costing_more_than_the_limit_is_refused_before_it_runs(
    api: Api, tenant: TenantAccess
) -> None:
    query = "{ " + " ".join(f"p{i}: {PAGE}" for i in range(8)) + " }"

    body = await api.call(query, token=tenant.api_key)

    [error] = body["errors"]
    assert body["data"] is None and "path" not in error
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "maxQueryCost",
        "cost": 8 * PAGE_COST,
    }
    assert str(8 * PAGE_COST) in error["message"] and "10000" in error["message"]


async def test_a_query_within_the_cost_limit_runs(api: Api, tenant: TenantAccess) -> None:
    query = "{ " + " ".join(f"p{i}: {PAGE}" for i in range(7)) + " }"

    assert (await api.data(query, token=tenant.api_key))["p6"]["edges"] == []


async def test_the_page_size_in_the_variables_is_what_costs(api: Api, alice: UserAccess) -> None:
    query = unique(INBOX)

    small = await api.call(query, {"n": 200}, token=alice.token)
    huge = await api.error(query, {"n": 100_000}, token=alice.token)  # remembered, still costed

    assert "errors" not in small
    assert huge["extensions"]["limit"] == "maxQueryCost"


def spreading(levels: int, last: str) -> str:
    """Each fragment spreads the next twice: 2**levels paths in a few hundred bytes."""
    fragments = "".join(
        f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }} " for i in range(levels)
    )
    return f"{{ viewer {{ ...F0 }} }} {fragments}fragment F{levels} on User {{ {last} }}"


@pytest.mark.parametrize(("last", "limit"), [("a: id", "maxAliases"), ("id", "maxQueryCost")])
async def test_fragments_spread_inside_fragments_are_refused_at_once(
    api: Api, last: str, limit: str
) -> None:
    started = time.perf_counter()

    error = await api.error(spreading(18, last))

    assert error["extensions"]["limit"] == limit
    assert time.perf_counter() - started < 1


async def test_a_query_nested_deeper_than_the_limit_is_refused(api: Api) -> None:
    nested = "{" + "viewer { " * 13 + "id" + " }" * 13 + "}"

    error = await api.error(nested)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": "maxDepth"}


async def test_the_full_introspection_query_fits_the_limits(api: Api) -> None:
    query = get_introspection_query(descriptions=True, specified_by_url=True)

    assert (await api.data(query))["__schema"]["queryType"]["name"] == "Query"


# --- remembered documents --------------------------------------------------------------------


async def test_a_signed_in_callers_valid_document_is_remembered(
    api: Api, alice: UserAccess, settings: Settings
) -> None:
    query = unique(VIEWER)

    await api.data(query, token=alice.token)

    assert query in set(remembered(settings))


async def test_an_anonymous_callers_document_is_not_remembered(
    api: Api, settings: Settings
) -> None:
    query = unique("{ __typename }")

    await api.data(query)

    assert query not in set(remembered(settings))


async def test_an_invalid_document_is_not_remembered(
    api: Api, alice: UserAccess, settings: Settings
) -> None:
    query = unique("{ viewer { nope } }")

    await api.error(query, token=alice.token)

    assert query not in set(remembered(settings))


async def test_a_document_over_the_remembered_size_is_validated_every_time(
    api: Api, alice: UserAccess, settings: Settings
) -> None:
    query = unique(VIEWER) + " #" + "x" * settings.validation_cache_document_chars

    await api.data(query, token=alice.token)

    assert query not in set(remembered(settings))


def test_remembered_documents_are_bounded_by_bytes() -> None:
    documents = ValidDocuments(max_bytes=50_000)
    texts = [f"query Q{i} {{ viewer {{ id }} }} #{'x' * 1000}" for i in range(200)]

    for text in texts:
        documents.add((text, ()))

    assert documents.size <= 50_000
    assert list(documents) == texts[-len(documents) :] and len(documents) > 30


def test_a_remembered_document_used_again_is_kept_longest() -> None:
    documents = ValidDocuments(max_bytes=6_000)  # room for four
    first, *others = [f"query Q{i} {{ viewer {{ id }} }} #{'x' * 1000}" for i in range(5)]
    documents.add((first, ()))
    documents.add((others[0], ()))

    assert (first, ()) in documents
    for text in others[1:]:
        documents.add((text, ()))

    assert first in set(documents) and others[0] not in set(documents)
