"""What answering a query would take, measured from its document before anything else.

- cost: every field counts 1; a field that takes `first` (a page) counts its selection once
  per item asked for (50 when `first` is left out), so pages inside pages multiply;
- depth: how deeply fields nest (introspection fields aside, so GraphiQL's own query fits);
- aliases: how many fields are renamed, counted wherever their fragment is spread.

Fragments count where they are spread, but each is walked once: a document that spreads
fragments inside fragments has exponentially many paths (Strawberry's QueryDepthLimiter and
MaxAliasesLimiter walk every one of them, for seconds on a few hundred bytes)."""

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.utilities import get_operation_ast

from app.services.pagination import DEFAULT_PAGE_SIZE

PAGE_ARGUMENT = "first"


@dataclass(frozen=True, slots=True)
class Measure:
    cost: int = 0
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: "Measure") -> "Measure":
        return Measure(
            self.cost + other.cost, max(self.depth, other.depth), self.aliases + other.aliases
        )


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> Measure:
    operation = get_operation_ast(document, operation_name)
    root = schema.get_root_type(operation.operation) if operation else None
    if operation is None or root is None:
        return Measure()
    walk = _Walk(schema, document, operation, variables or {})
    return walk.selections(root, operation.selection_set)


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    return measure(schema, document, operation_name, variables).cost


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.defaults = {
            d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
        }
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, Measure] = {}

    def selections(
        self, parent: GraphQLNamedType | None, selection_set: SelectionSetNode
    ) -> Measure:
        total = Measure()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(inner, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> Measure:
        if name not in self.measured:
            self.measured[name] = Measure()  # a cycle (refused by validation) adds nothing
            definition = self.fragments.get(name)
            if definition is not None:
                condition = self.schema.get_type(definition.type_condition.name.value)
                self.measured[name] = self.selections(condition, definition.selection_set)
        return self.measured[name]

    def field(self, parent: GraphQLNamedType | None, node: FieldNode) -> Measure:
        aliases = 1 if node.alias else 0
        if node.selection_set is None:
            return Measure(cost=1, aliases=aliases)
        # A field the schema lacks is measured all the same: validation refuses it later.
        definition = _definition(parent, node.name.value)
        inner_type = get_named_type(definition.type) if definition else None
        inner = self.selections(inner_type, node.selection_set)
        introspection = node.name.value.startswith("__")
        return Measure(
            cost=1 + (self.page_size(definition, node) if definition else 1) * inner.cost,
            depth=0 if introspection else 1 + inner.depth,
            aliases=aliases + inner.aliases,
        )

    def page_size(self, definition: GraphQLField, node: FieldNode) -> int:
        if PAGE_ARGUMENT not in definition.args:
            return 1
        given = next((a.value for a in node.arguments or () if a.name.value == PAGE_ARGUMENT), None)
        value = self.value(given)
        # Not an integer: the call fails when its arguments are read, at the usual page's cost.
        return max(0, value) if isinstance(value, int) else DEFAULT_PAGE_SIZE

    def value(self, node: ValueNode | None) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                given = self.variables[name]
                return None if isinstance(given, bool) else given
            return self.value(self.defaults.get(name))
        if isinstance(node, IntValueNode):
            # Longer than Python reads (4300 digits) is far beyond an Int anyway: refused when
            # the arguments are read.
            with suppress(ValueError):
                return int(node.value)
        return None


def _definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name == "__schema":
        return SchemaMetaFieldDef
    if name == "__type":
        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        field: GraphQLField | None = parent.fields.get(name)
        return field
    return None
