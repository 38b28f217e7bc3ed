"""What answering a query would cost, estimated from its document before it runs.

Every field counts 1; a field that takes `first` (a page) counts its selection once per item
asked for (50 when `first` is left out), so pages inside pages multiply. Fragments count where
they are spread."""

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


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    root = schema.get_root_type(operation.operation) if operation else None
    if operation is None or root is None:
        return 0
    return _Estimate(schema, document, operation, variables or {}).selections(
        root, operation.selection_set
    )


class _Estimate:
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
        # Each fragment is costed once however often it is spread: a document that spreads
        # fragments inside fragments would otherwise take exponential time to walk.
        self.fragment_costs: dict[str, int] = {}

    def selections(self, parent: GraphQLNamedType | None, selection_set: SelectionSetNode) -> int:
        total = 0
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

    def fragment(self, name: str) -> int:
        if name not in self.fragment_costs:
            self.fragment_costs[name] = 0  # a cycle (refused by validation) adds nothing
            definition = self.fragments.get(name)
            if definition is not None:
                condition = self.schema.get_type(definition.type_condition.name.value)
                self.fragment_costs[name] = self.selections(condition, definition.selection_set)
        return self.fragment_costs[name]

    def field(self, parent: GraphQLNamedType | None, node: FieldNode) -> int:
        definition = _definition(parent, node.name.value)
        if node.selection_set is None or definition is None:
            return 1
        inner = self.selections(get_named_type(definition.type), node.selection_set)
        return 1 + self.page_size(definition, node) * inner

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
