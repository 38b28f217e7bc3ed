"""The code's own imports point one way, down the layers below, and lean only on what its
dependencies make public: no private module or name of a third-party package is imported
anywhere in app/, and none of their private attributes is used but in the documented
adapters."""

import ast
import importlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

APP = Path(__file__).parent.parent / "app"

# From the bottom up: a module imports from its own layer and the layers below it, never above.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "app.models",
        "app.db",
        "app.settings",
        "app.errors",
        "app.clock",
        "app.crypto",
        "app.encoding",
        "app.logs",
        "app.metrics",
        "app.tracing",
        "app.jobs",
    ),
    ("app.auth",),
    ("app.live", "app.delivery"),  # fan-out, and the delivery worker with its providers
    ("app.services",),
    ("app.graphql",),
    ("app.http",),  # the transport: the view, websockets, cookies, rate limits, routes
    ("app.main", "app.cli", "app.demo"),
)


Arrows = dict[str, set[str]]


def modules(root: Path) -> dict[str, Path]:
    """Every module under `root` (a package named after its folder), by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def arrows(root: Path) -> Arrows:
    """Which of the package's modules each of them imports, wherever the import is (a lazy or
    type-only import is a dependency too). A package importing its own modules is made of
    them: that is no arrow."""
    known = modules(root)
    return {
        name: {
            target
            for target in _imported(name, path, known)
            if target != name and not target.startswith(f"{name}.")
        }
        for name, path in known.items()
    }


def _imported(name: str, path: Path, known: dict[str, Path]) -> Iterable[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (_module(alias.name, known) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            for alias in node.names:
                yield _module(f"{base}.{alias.name}", known)  # a module, or a name in `base`


def _module(dotted: str, known: dict[str, Path]) -> str:
    """The longest known module that `dotted` names or is in; "" for other packages."""
    while dotted and dotted not in known:
        dotted = dotted.rpartition(".")[0]
    return dotted


def layer_of(module: str) -> int | None:
    for level, members in enumerate(LAYERS):
        if any(module == m or module.startswith(f"{m}.") for m in members):
            return level
    return None


def upward(graph: Arrows) -> set[tuple[str, str]]:
    return {
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if (layer_of(source) or 0) < (layer_of(target) or 0)
    }


def circles(graph: Arrows) -> list[list[str]]:
    """The groups of modules that reach each other through their imports (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                found.append(sorted([node, *group]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def rooms(graph: Arrows) -> Arrows:
    """The same arrows between the parts of app/: its packages and its loose modules."""

    def room(module: str) -> str:
        return ".".join(module.split(".")[:2])

    joined: Arrows = {}
    for source, targets in graph.items():
        joined.setdefault(room(source), set()).update(
            room(t) for t in targets if room(t) != room(source)
        )
    return joined


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


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_check_finds_what_it_looks_for() -> None:
    source = "from broadcaster._backends.base import X\nfrom a import _b\nimport c._d\n"

    assert private_imports(source) == ["broadcaster._backends.base", "a._b", "c._d"]


def test_the_graph_check_finds_upward_imports_and_circles(tmp_path: Path) -> None:
    # Given a package whose auth imports a service and a service imports auth (no circle of
    # modules, but of parts), and two services importing each other, one of them lazily
    app = write_package(
        tmp_path / "app",
        {
            "__init__.py": "",
            "auth.py": "from app.services.validation import is_storable\n",
            "services/__init__.py": "",
            "services/validation.py": "import re\n",
            "services/users.py": "from app import auth\n",
            "services/events.py": "from app.services import digests\n",
            "services/digests.py": "def add():\n    from app.services.events import act\n",
            "live/__init__.py": "def pick():\n    from app.live import memory\n",
            "live/memory.py": "from app.live import pick\n",
        },
    )

    # When its arrows are drawn
    graph = arrows(app)

    # Then the upward import and both circles are found, and a package that imports its own
    # module lazily is not taken for a circle
    assert upward(graph) == {("app.auth", "app.services.validation")}
    assert circles(graph) == [["app.services.digests", "app.services.events"]]
    assert circles(rooms(graph)) == [["app.auth", "app.services"]]
    assert graph["app.live"] == set() and graph["app.live.memory"] == {"app.live"}


def test_every_module_sits_in_a_layer() -> None:
    unplaced = [name for name in modules(APP) if name != "app" and layer_of(name) is None]

    assert unplaced == []


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    assert upward(arrows(APP)) == set()


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert circles(arrows(APP)) == []


def test_no_two_parts_of_app_depend_on_each_other() -> None:
    assert circles(rooms(arrows(APP))) == []


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
