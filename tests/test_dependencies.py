"""What a fresh clone installs is enough for the README's test command: `uv run pytest` syncs
the project's dependencies and its dev group, never an extra, so a test may import only what
those reach in the lock file."""

import ast
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "uv.lock"
PROJECT = "belfry"


def normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed_by_default() -> set[str]:
    """The distributions `uv run` installs: the project's own dependencies and its dev group,
    followed through the lock file, with an extra only where something asks for it."""
    packages = {p["name"]: p for p in tomllib.loads(LOCK.read_text())["package"]}
    project = packages[PROJECT]
    wanted = [*project.get("dependencies", ()), *project["dev-dependencies"]["dev"]]
    reached: set[str] = set()
    seen: set[tuple[str, str | None]] = set()
    while wanted:
        dependency = wanted.pop()
        name = dependency["name"]
        for extra in [None, *dependency.get("extra", ())]:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            reached.add(name)
            package = packages[name]
            if extra is None:
                wanted.extend(package.get("dependencies", ()))
            else:
                wanted.extend(package.get("optional-dependencies", {}).get(extra, ()))
    return {normal(name) for name in reached}


def imported_modules(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every top-level module a Python file under the folder imports, absolute imports only."""
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield path, node.module.split(".")[0]


def test_the_suite_imports_only_what_a_fresh_clone_installs() -> None:
    # Given the distributions that the project and its dev group reach
    default = installed_by_default()
    owners = packages_distributions()

    # When every third-party module the tests import is traced to its distribution
    missing = {
        f"{path.relative_to(ROOT)}: {module} ({', '.join(owners[module])})"
        for path, module in imported_modules(ROOT / "tests")
        if module in owners
        and module not in sys.stdlib_module_names
        and not any(normal(owner) in default for owner in owners[module])
    }

    # Then each of them is installed without asking for an extra
    assert not missing, sorted(missing)
