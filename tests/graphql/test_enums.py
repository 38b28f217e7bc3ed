"""Every enum of the schema is registered with Strawberry in app/graphql/enums.py, and nowhere
else."""

import ast
from pathlib import Path

from graphql import GraphQLEnumType, build_schema

from app.graphql.schema import schema

APP = Path(__file__).parent.parent.parent / "app"
ENUMS = APP / "graphql" / "enums.py"


def registrations(source: str) -> list[str]:
    """The GraphQL name of each enum `source` registers: `strawberry.enum(X, name=...)` or a
    class decorated with `@strawberry.enum`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _is_strawberry_enum(node.func) and node.args:
            named = [k.value for k in node.keywords if k.arg == "name"]
            [registered, *_] = node.args
            default = registered.attr if isinstance(registered, ast.Attribute) else None
            if isinstance(registered, ast.Name):
                default = registered.id
            found.append(_text(named[0]) if named else str(default))
        elif isinstance(node, ast.ClassDef) and any(map(_is_strawberry_enum, node.decorator_list)):
            found.append(node.name)
    return found


def _is_strawberry_enum(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and ast.unparse(node) == "strawberry.enum"


def _text(node: ast.expr) -> str:
    assert isinstance(node, ast.Constant) and isinstance(node.value, str)
    return node.value


def test_the_scan_finds_each_way_of_registering() -> None:
    source = (
        "strawberry.enum(models.Role)\nstrawberry.enum(Scope, name='PreferenceScope')\n"
        "@strawberry.enum\nclass Weekday(Enum):\n    MONDAY = 1\n"
    )

    assert sorted(registrations(source)) == ["PreferenceScope", "Role", "Weekday"]


def test_every_enum_of_the_schema_is_registered_in_the_enums_module() -> None:
    printed = build_schema(schema.as_str())
    in_schema = {
        name
        for name, type_ in printed.type_map.items()
        if isinstance(type_, GraphQLEnumType) and not name.startswith("__")
    }

    assert sorted(registrations(ENUMS.read_text())) == sorted(in_schema)


def test_no_other_module_registers_an_enum() -> None:
    found = {
        str(path.relative_to(APP)): registered
        for path in sorted(APP.rglob("*.py"))
        if path != ENUMS and (registered := registrations(path.read_text()))
    }

    assert found == {}
