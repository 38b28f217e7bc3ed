"""What one GraphQL request may ask of the server, refused as early as it can be known.

Before parsing: the document's length and unstorable text in the variables. While parsing:
the number of tokens. Before validating: the query's cost, depth and aliases (see cost.py).
While validating: unstorable text in string literals and, when it is off, introspection.
Valid documents from signed-in callers are remembered so their repeats skip validation, and a
parsed document still in use is shared with the operations that send the same text."""

from collections import OrderedDict
from collections.abc import Iterator
from functools import cache
from sys import getsizeof
from typing import Any
from weakref import WeakValueDictionary

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    ObjectFieldNode,
    StringValueNode,
    ValidationRule,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from app.db import UNSTORABLE, is_storable
from app.errors import BadUserInput
from app.graphql.adapters import core_schema
from app.graphql.cost import Measure, measure
from app.settings import Settings

MAX_DEPTH = 12
MAX_ALIASES = 30
UNSTORABLE_TEXT = "a NUL character or an unpaired surrogate, which cannot be stored"


def refusal(
    query: str | None, variables: dict[str, Any] | None, settings: Settings
) -> GraphQLError | None:
    """Why this request is refused before its document is even parsed, if it is."""
    limit = settings.max_document_chars
    if query is not None and len(query) > limit:
        return _error(
            BadUserInput(
                f"The document is {len(query)} characters long; the limit is {limit} "
                "(BELFRY_MAX_DOCUMENT_CHARS)",
                limit="maxDocumentChars",
            )
        )
    if variables and (path := _unstorable_path(variables)):
        return _error(BadUserInput(f"Variable ${path} contains {UNSTORABLE_TEXT}", field=path))
    return None


def _unstorable_path(variables: dict[str, Any]) -> str | None:
    """Where the first text no database can store sits in the variables (keys included)."""
    stack: list[tuple[Any, str]] = [(value, _key(name)) for name, value in variables.items()]
    stack.extend((name, _key(name)) for name in variables)
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if not is_storable(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{_key(key)}"[:200]
                stack.append((item, where))
                stack.append((key, where))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]"[:200]) for i, item in enumerate(value))
    return None


def _key(key: str) -> str:
    return UNSTORABLE.sub("?", key)[:100]


class StorableStrings(ValidationRule):
    """String literals may carry NUL through an escape (\\u0000); like variables, they must
    hold only what the databases can store."""

    def enter_string_value(
        self, node: StringValueNode, _key: Any, parent: Any, _path: Any, ancestors: list[Any]
    ) -> None:
        if is_storable(node.value):
            return
        around = [*ancestors, parent]
        named = [a for a in around if isinstance(a, ArgumentNode | ObjectFieldNode)]
        extensions: dict[str, Any] = {"code": BadUserInput.code}
        if named:
            extensions["field"] = named[-1].name.value
        self.report_error(
            GraphQLError(f"A string contains {UNSTORABLE_TEXT}", node, extensions=extensions)
        )


RULES: tuple[type[ASTValidationRule], ...] = (StorableStrings,)
WITHOUT_INTROSPECTION = (*RULES, NoSchemaIntrospectionCustomRule)


class ValidDocuments:
    """Documents known to pass validation under a set of rules: an LRU bounded by the bytes
    its entries hold. Only the text is kept, never a parsed document, so an entry costs
    what its text does."""

    ENTRY_OVERHEAD = 200  # the ordered dict's node and the key tuple, measured roughly

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple[str, tuple[type[ASTValidationRule], ...]], int] = (
            OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        """The remembered documents' texts, oldest first."""
        return (text for text, _ in self._entries)

    def __contains__(self, key: tuple[str, tuple[type[ASTValidationRule], ...]]) -> bool:
        if key in self._entries:
            self._entries.move_to_end(key)
            return True
        return False

    def add(self, key: tuple[str, tuple[type[ASTValidationRule], ...]]) -> None:
        cost = getsizeof(key[0]) + self.ENTRY_OVERHEAD
        if key in self._entries or cost > self.max_bytes:
            return
        self._entries[key] = cost
        self.size += cost
        while self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= evicted


# A subscription holds its parsed document for as long as it runs, and an app's sockets send
# the same few documents: one still held is shared instead of parsed again (graphql-core never
# changes a parsed document). Held weakly, so none lives longer than the operations using it.
LIVE_DOCUMENTS: WeakValueDictionary[tuple[str, tuple[tuple[str, Any], ...]], DocumentNode] = (
    WeakValueDictionary()
)


@cache
def valid_documents(max_bytes: int) -> ValidDocuments:
    """One cache per size, shared by every app in the process (they share the schema)."""
    return ValidDocuments(max_bytes)


class RequestLimits(SchemaExtension):
    """Reads its limits from the request's Context: the schema is shared, settings are not."""

    def on_operation(self) -> Iterator[None]:
        settings = self._settings()
        if settings is not None:
            context = self.execution_context
            context.parse_options["max_tokens"] = settings.max_document_tokens
            context.validation_rules = (
                *context.validation_rules,
                *(RULES if settings.introspection_enabled else WITHOUT_INTROSPECTION),
            )
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if not isinstance(context.query, str):
            yield
            return
        # The same text parsed with the same options (the token limit) gives the same document.
        key = (context.query, tuple(sorted(context.parse_options.items())))
        if context.graphql_document is None:
            context.graphql_document = LIVE_DOCUMENTS.get(key)  # Strawberry parses if None
        yield
        if context.graphql_document is not None:
            LIVE_DOCUMENTS.setdefault(key, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        settings = self._settings()
        if settings is not None:
            self.execution_context.pre_execution_errors = self._errors(settings)
        yield

    def _errors(self, settings: Settings) -> list[GraphQLError]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None and context.query is not None
        schema = core_schema(context.schema)
        # Measured first: it takes one pass, where validating an oversized query may take many.
        if refused := _oversized(
            measure(schema, document, context.operation_name, context.variables), settings
        ):
            return [_error(refused)]
        key = (context.query, context.validation_rules)
        cache = valid_documents(settings.validation_cache_bytes)
        if key not in cache:
            errors = validate_document(schema, document, context.validation_rules)
            if errors:
                return errors
            if self._cacheable(context.query, settings):
                cache.add(key)
        return []

    def _cacheable(self, query: str, settings: Settings) -> bool:
        # Anyone may send a document; only a signed-in caller's may take memory for later.
        principal = getattr(self.execution_context.context, "principal", None)
        return principal is not None and len(query) <= settings.validation_cache_document_chars

    def _settings(self) -> Settings | None:
        # Absent only when the schema is run directly (tests, the SDL export).
        settings = getattr(self.execution_context.context, "settings", None)
        return settings if isinstance(settings, Settings) else None


def _oversized(size: Measure, settings: Settings) -> BadUserInput | None:
    if size.depth > MAX_DEPTH:
        return BadUserInput(
            f"The query nests fields {size.depth} deep; the limit is {MAX_DEPTH}",
            limit="maxDepth",
        )
    if size.aliases > MAX_ALIASES:
        return BadUserInput(
            f"The query has {size.aliases} aliases; the limit is {MAX_ALIASES}",
            limit="maxAliases",
        )
    if size.cost > settings.max_query_cost:
        return BadUserInput(
            f"The query's cost is {size.cost}; the limit is {settings.max_query_cost} "
            "(BELFRY_MAX_QUERY_COST). Each field counts 1, and the fields under a page count "
            "once per item of `first` (50 by default): ask for smaller pages or fewer fields.",
            limit="maxQueryCost",
            cost=size.cost,
        )
    return None


def _error(error: BadUserInput) -> GraphQLError:
    return GraphQLError(str(error), original_error=error)
