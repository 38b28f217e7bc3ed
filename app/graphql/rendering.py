"""Subscription events rendered without per-field execution.

graphql-core executes a subscription's selection set once per event and subscriber, which
is most of what an event costs. A subscription's selection set is fixed when it starts, so
for plain selections (fields, aliases, `__typename`; no fragments, directives or arguments)
we compile it once into a function from event to response data, and the executor passes such
pre-rendered events straight through. Anything else takes the ordinary path.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    SelectionSetNode,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info

from app.graphql.adapters import ResolveInfo, core_info

Render = Callable[[Any], Any]


@dataclass(slots=True)  # not frozen: one is made per subscriber and event, and frozen costs
class Rendered:
    """An event whose response data is already built; `event` is what it was built from."""

    data: dict[str, Any]
    event: Any

    def __getattr__(self, name: str) -> Any:
        # Should an ordinary execution ever see this, it resolves fields from the event.
        return getattr(self.event, name)


class EventExecutor(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        if isinstance(payload, Rendered):
            return _RenderedEvent(payload)  # no copy of this executor, no field execution
        return super().build_per_event_executor(payload)


class _RenderedEvent:
    def __init__(self, rendered: Rendered) -> None:
        self.rendered = rendered

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return ExecutionResult(data=self.rendered.data)


# Subscriptions that sent the same document share its parsed nodes (app.graphql.limits), and
# so their renderer: compiled once per field node and return type, not kept per subscriber.
_RENDERERS: WeakKeyDictionary[FieldNode, tuple[GraphQLOutputType, Callable[[Any], Any]]] = (
    WeakKeyDictionary()
)


def renderer_for(info: Info[Any, Any]) -> Callable[[Any], Any]:
    """Wraps each event of this subscription as Rendered when its selection allows it.
    A Rendered stands in for its event, which is why this is typed loosely."""
    raw = core_info(info)
    node = raw.field_nodes[0]
    cached = _RENDERERS.get(node)
    if cached is not None and cached[0] is raw.return_type:
        return cached[1]
    renderer = _renderer(raw)
    _RENDERERS[node] = (raw.return_type, renderer)
    return renderer


def _renderer(raw: ResolveInfo) -> Callable[[Any], Any]:
    render = None
    if len(raw.field_nodes) == 1 and not raw.fragments:
        node = raw.field_nodes[0]
        if not node.directives:
            value = _compile(raw.return_type, node.selection_set)
            if value is not None:
                key = node.alias.value if node.alias else node.name.value
                render = value
    if render is None:
        return lambda event: event
    return lambda event: Rendered(data={key: render(event)}, event=event)


def _compile(type_: GraphQLOutputType, selection: SelectionSetNode | None) -> Render | None:
    if isinstance(type_, GraphQLNonNull):
        return _compile(type_.of_type, selection)
    if isinstance(type_, GraphQLList):
        item = _compile(type_.of_type, selection)
        if item is None:
            return None
        return lambda values: None if values is None else [item(v) for v in values]
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        serialize = type_.serialize
        return lambda value: None if value is None else serialize(value)
    if isinstance(type_, GraphQLObjectType) and selection is not None:
        return _compile_object(type_, selection)
    return None


def _compile_object(type_: GraphQLObjectType, selection: SelectionSetNode) -> Render | None:
    fields: list[tuple[str, Render]] = []
    for node in selection.selections:
        if not isinstance(node, FieldNode) or node.directives or node.arguments:
            return None
        key = node.alias.value if node.alias else node.name.value
        if any(key == existing for existing, _ in fields):
            return None  # repeated keys need graphql's field merging
        field = _compile_field(type_, node)
        if field is None:
            return None
        fields.append((key, field))

    def render(value: Any) -> Any:
        if value is None:
            return None
        return {key: field(value) for key, field in fields}

    return render


def _compile_field(parent: GraphQLObjectType, node: FieldNode) -> Render | None:
    name = node.name.value
    if name == "__typename":
        return lambda _: parent.name
    field = parent.fields.get(name)
    definition = field.extensions.get("strawberry-definition") if field else None
    if field is None or definition is None or definition.base_resolver is not None:
        return None  # only plain attributes; resolvers run the ordinary way
    value = _compile(field.type, node.selection_set)
    if value is None:
        return None
    attribute = definition.python_name
    return lambda obj: value(getattr(obj, attribute))
