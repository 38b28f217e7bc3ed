"""The code leans only on what its dependencies make public: no private module or name of a
third-party package is imported anywhere in app/, and none of their private attributes is used
but in the documented adapters."""

import ast
import importlib
from pathlib import Path
from types import ModuleType

APP = Path(__file__).parent.parent / "app"


def private_imports(source: str) -> list[str]:
    """`from x._y import z`, `from x import _z` and `import x._y` of any package but ours."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        private = [name for name in names if _private(name)]
        found += private[:1]  # one finding a statement
    return found


def _private(name: str) -> bool:
    parts = name.split(".")
    return parts[0] != "app" and any(part.startswith("_") for part in parts)


def test_the_check_finds_what_it_looks_for() -> None:
    source = "from broadcaster._backends.base import X\nfrom a import _b\nimport c._d\n"

    assert private_imports(source) == ["broadcaster._backends.base", "a._b", "c._d"]


def test_no_module_imports_a_private_name_of_a_dependency() -> None:
    found = {
        str(path.relative_to(APP)): private
        for path in sorted(APP.rglob("*.py"))
        if (private := private_imports(path.read_text()))
    }

    assert found == {}


# The documented adapters (each says why, and has a test that fails when its dependency
# changes under it): the private names of a dependency each may use.
ADAPTERS = {
    "db.py": {"model._meta"},
    "graphql/adapters.py": {"schema._schema", "info._raw_info"},
}


def private_uses(source: str, namespace: dict[str, object]) -> list[str]:
    """Every `x._name` that may be a dependency's private name: on anything but an app module,
    an app class's own name, or `self`/`cls` where no dependency's class above ours has the
    name; and every method of ours that overrides a private name of a dependency's class.
    Names a dependency's instances set for themselves, not on their class, go unseen.
    `namespace` is the module's, to tell ours from theirs."""
    tree = ast.parse(source)
    classes = _enclosing_classes(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if (used := _private_use(node)) is not None:
            value, name = used
            owner = namespace.get(classes[node].name) if node in classes else None
            if not _ours(value, name, owner, namespace):
                assert isinstance(node, ast.expr)
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ClassDef) and isinstance(cls := namespace.get(node.name), type):
            for method in node.body:
                if (
                    isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
                    and _private_name(method.name)
                    and _theirs(cls, method.name, above=True)
                ):
                    found.append((method.lineno, f"{node.name}.{method.name} overrides theirs"))
    return [text for _, text in sorted(found)]


def _private_use(node: ast.AST) -> tuple[ast.expr, str] | None:
    """(x, "_name") for `x._name`, and for `getattr(x, "_name")` and its kin."""
    if isinstance(node, ast.Attribute) and _private_name(node.attr):
        return node.value, node.attr
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "hasattr", "setattr")
        and len(node.args) >= 2
        and isinstance(name := node.args[1], ast.Constant)
        and isinstance(name.value, str)
        and _private_name(name.value)
    ):
        return node.args[0], name.value
    return None


def _private_name(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _enclosing_classes(tree: ast.Module) -> dict[ast.AST, ast.ClassDef]:
    """Each node inside a top-level class, with that class."""
    return {
        node: top for top in tree.body if isinstance(top, ast.ClassDef) for node in ast.walk(top)
    }


def _ours(value: ast.expr, name: str, owner: object, namespace: dict[str, object]) -> bool:
    if isinstance(value, ast.Name) and value.id in ("self", "cls"):
        return isinstance(owner, type) and not _theirs(owner, name, above=False)
    if isinstance(value, ast.Call) and ast.unparse(value.func) == "super":
        return isinstance(owner, type) and not _theirs(owner, name, above=True)
    if not isinstance(value, ast.Name):
        return False  # what an expression gives is anyone's
    named = namespace.get(value.id)
    if isinstance(named, ModuleType):
        return named.__name__.split(".")[0] == "app"
    return isinstance(named, type) and _is_app(named) and not _theirs(named, name, above=False)


def _theirs(cls: type, name: str, *, above: bool) -> bool:
    """Whether a dependency's class in `cls`'s MRO (above it only, or with it) has `name`."""
    classes = cls.__mro__[1:] if above else cls.__mro__
    return any(
        not _is_app(c)
        and (
            name in vars(c)
            or name in getattr(c, "__annotations__", {})
            or name in getattr(c, "__slots__", ())
        )
        for c in classes
    )


def _is_app(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "app"


def test_the_private_use_check_finds_what_it_looks_for() -> None:
    source = """
import json
from strawberry.extensions import MaskErrors
from strawberry.types import Info
from app import clock


class Policy(MaskErrors):
    def _process_result(self, result):
        return self._own(result) + super()._process_errors([])

    def _own(self, result):
        return [clock._ahead, json._default_encoder, Policy._own]


def render(info: Info):
    return info._raw_info, getattr(info, "_field", None)
"""
    namespace: dict[str, object] = {"__name__": "app.example"}
    exec(compile(source, "example", "exec"), namespace)

    assert private_uses(source, namespace) == [
        "Policy._process_result overrides theirs",
        "super()._process_errors",
        "json._default_encoder",
        "getattr(info, '_field', None)",
        "info._raw_info",
    ]


def test_no_module_uses_a_private_name_of_a_dependency_but_the_adapters() -> None:
    found = {}
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(APP)
        module = ".".join(("app", *relative.with_suffix("").parts)).removesuffix(".__init__")
        uses = set(private_uses(path.read_text(), vars(importlib.import_module(module))))
        if unexpected := uses - ADAPTERS.get(str(relative), set()):
            found[str(relative)] = sorted(unexpected)

    assert found == {}


def test_each_adapter_still_uses_what_it_is_allowed() -> None:
    for relative, allowed in ADAPTERS.items():
        module = ".".join(("app", *Path(relative).with_suffix("").parts))
        source = (APP / relative).read_text()

        assert set(private_uses(source, vars(importlib.import_module(module)))) == allowed
