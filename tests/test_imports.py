"""The code leans only on what its dependencies make public: no private module or name of a
third-party package is imported anywhere in app/."""

import ast
from pathlib import Path

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
