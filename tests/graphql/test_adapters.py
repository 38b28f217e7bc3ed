"""The graphql-core objects app.graphql.adapters reaches behind Strawberry for: these fail
when Strawberry changes how it keeps them."""

from typing import Any

import strawberry
from graphql import FieldNode, GraphQLSchema, build_schema

from app.graphql.adapters import core_info, core_schema
from app.graphql.schema import schema


def test_the_core_schema_has_the_types_strawberry_prints() -> None:
    core = core_schema(schema)

    assert isinstance(core, GraphQLSchema)
    assert set(core.type_map) == set(build_schema(schema.as_str()).type_map)
    assert core.query_type is not None and "notifications" in core.query_type.fields


@strawberry.type
class Query:
    @strawberry.field
    def seen(self, info: strawberry.Info) -> str:
        raw = core_info(info)
        [node] = raw.field_nodes
        assert isinstance(node, FieldNode)
        return f"{node.name.value} {raw.return_type} {sorted(raw.fragments)}"


def seen(query: str) -> Any:
    result = strawberry.Schema(Query).execute_sync(query)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data["seen"]


def test_the_core_info_has_the_field_nodes_return_type_and_fragments() -> None:
    assert seen("{ seen }") == "seen String! []"
    assert seen("query { ...F } fragment F on Query { seen }") == "seen String! ['F']"
