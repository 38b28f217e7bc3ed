"""The graphql-core objects behind Strawberry's, which Strawberry keeps private and Belfry
needs: the schema that validation and the cost measure walk (app.graphql.limits), and the
resolve info of a subscription's resolver, whose parsed field nodes key its compiled renderer
(app.graphql.rendering). The only module that reaches past Strawberry's public API;
tests/graphql/test_adapters.py fails when Strawberry changes under it."""

from typing import Any, Protocol

from graphql import FieldNode, FragmentDefinitionNode, GraphQLOutputType, GraphQLSchema
from strawberry import Schema
from strawberry.types import Info


class ResolveInfo(Protocol):
    """What is read of graphql-core's resolve info (Strawberry's is a tuple of its own with
    the same fields)."""

    @property
    def field_nodes(self) -> list[FieldNode]: ...

    @property
    def fragments(self) -> dict[str, FragmentDefinitionNode]: ...

    @property
    def return_type(self) -> GraphQLOutputType: ...


def core_schema(schema: Schema) -> GraphQLSchema:
    """Strawberry keeps it as `_schema`, and reads it so itself (its validation cache)."""
    core = schema._schema
    assert isinstance(core, GraphQLSchema)
    return core


def core_info(info: Info[Any, Any]) -> ResolveInfo:
    """Strawberry builds its Info around graphql-core's, as `_raw_info`."""
    raw: ResolveInfo = info._raw_info
    return raw
