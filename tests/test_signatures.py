"""What app/ offers outside the GraphQL layer says what it takes and gives: no public signature
uses `Any`. A value that is JSON on purpose says so with app.encoding.JsonValue (or
JsonObject); anything else has a type that names it."""

import ast
from collections.abc import Iterator
from pathlib import Path

APP = Path(__file__).parent.parent / "app"
# Strawberry's decorators and scalars are typed with Any; its resolvers are the API's own.
EXEMPT = ("graphql",)


def any_uses(source: str) -> list[str]:
    """Where a public signature of the module uses Any: a function's or method's parameters
    and result, a class's fields and attributes, and the module's public aliases and
    constants, each named as "name: the annotation". A function or method is public when its
    name has no leading underscore (a constructor is public), a class or alias likewise;
    functions inside functions are not."""
    found = []
    for name, annotation in _public_annotations(ast.parse(source).body, prefix=""):
        if _mentions_any(annotation):
            found.append(f"{name}: {ast.unparse(annotation)}")
    return found


def _public_annotations(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, ast.expr]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _public(node.name):
            yield from _signature(f"{prefix}{node.name}", node)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from _public_annotations(node.body, prefix=f"{prefix}{node.name}.")
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if not node.target.id.startswith("_"):
                yield f"{prefix}{node.target.id}", node.annotation
                if node.value is not None and _is_type_alias(node.annotation):
                    yield f"{prefix}{node.target.id}", node.value
        elif isinstance(node, ast.Assign) and not prefix and _is_alias(node):
            yield ast.unparse(node.targets[0]), node.value


def _is_alias(node: ast.Assign) -> bool:
    """A public name for a type, such as Rows = tuple[...]."""
    [target, *more] = node.targets
    return (
        not more
        and isinstance(target, ast.Name)
        and not target.id.startswith("_")
        and isinstance(node.value, ast.Subscript | ast.BinOp | ast.Name)
    )


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def _is_type_alias(annotation: ast.expr) -> bool:
    return ast.unparse(annotation) in ("TypeAlias", "typing.TypeAlias")


def _signature(
    name: str, node: ast.FunctionDef | ast.AsyncFunctionDef
) -> Iterator[tuple[str, ast.expr]]:
    arguments = node.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    for argument in every:
        if argument.annotation is not None:
            yield f"{name}({argument.arg})", argument.annotation
    if node.returns is not None:
        yield f"{name}() ->", node.returns


def _mentions_any(annotation: ast.expr) -> bool:
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id == "Any":
            return True
        if isinstance(node, ast.Attribute) and node.attr == "Any":
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                quoted = ast.parse(node.value, mode="eval").body
            except (SyntaxError, ValueError, UnicodeError):
                continue  # text, not a type
            if _mentions_any(quoted):
                return True
    return False


def test_the_check_finds_any_in_public_signatures_only() -> None:
    # Given a module with Any in public and private places
    source = """
from typing import Any, TypeAlias
import typing

Rows = tuple[type, list[dict[str, Any]]]
JsonValue: TypeAlias = dict[str, "JsonValue"] | list["JsonValue"] | str | int | None
TESTS: dict[str, typing.Any] = {}
_cache: dict[str, Any] = {}


def load(row: "dict[str, Any]", *more: int, **options: Any) -> list[Any]:
    def inner(x: Any) -> Any:
        return x
    return []


def _private(x: Any) -> Any:
    return x


def typed(value: JsonValue) -> dict[str, JsonValue]:
    return {}


class Record:
    data: Any
    _hidden: Any
    kept: JsonValue

    def __init__(self, **extra: Any) -> None:
        pass

    def __eq__(self, other: Any) -> bool:
        return False

    async def fetch(self) -> Any:
        pass

    def _own(self, x: Any) -> None:
        pass


class _Private:
    def open(self, x: Any) -> None:
        pass
"""

    # When it is scanned
    found = any_uses(source)

    # Then every public use is named, and the JSON alias, private names and inner functions
    # pass
    assert found == [
        "Rows: tuple[type, list[dict[str, Any]]]",
        "TESTS: dict[str, typing.Any]",
        "load(row): 'dict[str, Any]'",
        "load(options): Any",
        "load() ->: list[Any]",
        "Record.data: Any",
        "Record.__init__(extra): Any",
        "Record.fetch() ->: Any",
    ]


def test_no_public_signature_outside_the_graphql_layer_uses_any() -> None:
    found = {
        str(relative): uses
        for path in sorted(APP.rglob("*.py"))
        if (relative := path.relative_to(APP)).parts[0] not in EXEMPT
        and (uses := any_uses(path.read_text()))
    }

    assert found == {}
