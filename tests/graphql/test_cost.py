"""Measuring a query: its cost (fields count 1, pages their selection per item), its depth
and its aliases."""

import time
from typing import Any

import pytest
from graphql import parse

from app.graphql.cost import Measure, measure, query_cost
from app.graphql.schema import schema


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return query_cost(schema._schema, parse(query), None, variables)


def measured(query: str) -> Measure:
    return measure(schema._schema, parse(query), None, None)


def test_every_field_counts_one() -> None:
    assert cost("{ viewer { id email } unreadCount }") == 1 + 2 + 1


def test_a_page_counts_its_selection_fifty_times_by_default() -> None:
    assert cost("{ notifications { edges { node { id } } } }") == 1 + 50 * (1 + 1 + 1)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ notifications(first: 10) { totalCount } }", None),
        ("query($n: Int) { notifications(first: $n) { totalCount } }", {"n": 10}),
        ("query($n: Int = 10) { notifications(first: $n) { totalCount } }", None),
    ],
)
def test_a_page_counts_its_selection_once_per_item_asked_for(query, variables) -> None:
    assert cost(query, variables) == 1 + 10 * 1


def test_a_page_size_too_long_to_read_costs_the_usual_page() -> None:
    # Given a page size of 5,000 digits, more than Python reads as an integer
    query = "{ notifications(first: " + "1" * 5000 + ") { totalCount } }"

    # When the query is costed, then it costs what a page without a size does (the call is
    # refused when its arguments are read)
    assert cost(query) == 1 + 50 * 1


def test_fields_deeper_in_a_page_count_once_per_item() -> None:
    query = "{ deliveries(first: 4) { edges { node { notification { id title } } } } }"

    assert cost(query) == 1 + 4 * (1 + (1 + (1 + 2)))


def test_fragments_count_where_they_are_spread() -> None:
    query = """
    { viewer { ...Me ... on User { name } } notifications(first: 2) { edges { node { ...N } } } }
    fragment Me on User { id email }
    fragment N on Notification { id title }
    """

    assert cost(query) == (1 + 2 + 1) + (1 + 2 * (1 + (1 + 2)))


def test_introspection_counts_like_any_query() -> None:
    assert cost("{ __schema { types { name fields { name } } } }") == 1 + 1 + 1 + 1 + 1


def test_fragments_spread_within_fragments_are_costed_without_walking_every_path() -> None:
    levels = 40  # 2**40 paths through the document: walking each would never finish
    fragments = "".join(
        f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels)
    )
    query = f"{{ viewer {{ ...F0 }} }}\n{fragments}fragment F{levels} on User {{ id }}"

    started = time.perf_counter()
    total = cost(query)

    assert total == 1 + 2**levels and time.perf_counter() - started < 1


def test_depth_counts_nested_fields_but_not_introspection() -> None:
    assert measured("{ unreadCount }").depth == 0
    assert measured("{ viewer { id } }").depth == 1
    assert measured("{ __schema { types { fields { type { name } } } } }").depth == 0


def test_fields_the_schema_lacks_still_nest() -> None:
    assert measured("{ a { b { c { d } } } }").depth == 3


def test_aliases_count_wherever_their_fragment_is_spread() -> None:
    query = "{ viewer { ...F ...F x: id } } fragment F on User { a: id b: email }"

    assert measured(query).aliases == 2 + 2 + 1
