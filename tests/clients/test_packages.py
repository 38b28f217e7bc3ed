"""The npm packages, @belfry/client (clients/js) and @belfry/react (clients/react), as an
application gets them: installed from the repository's folders or from their tarballs,
imported, type-checked against their declarations, and packed and published (dry runs) with
nothing missing or left over.

npm installs from its cache where it can (`npm ci` of both folders filled it)."""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.node import (
    CLIENT,
    REACT,
    Output,
    require_node,
    require_npm,
    require_package,
    run_command,
)


@dataclass(frozen=True)
class Package:
    name: str
    folder: Path
    exports: frozenset[str]
    # What an application installs beside it: the packages of ours it needs (as folder names),
    # and others for its TypeScript.
    ours: tuple[str, ...]
    types: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.name


BROWSER_CLIENT = Package(
    "@belfry/client",
    CLIENT,
    frozenset(
        {
            "BelfryError",
            "BelfryInboxElement",
            "createBelfryClient",
            "createInboxStore",
            "defineBelfryInbox",
            "safeLink",
            "tokenExpiry",
            "tokenFromEndpoint",
        }
    ),
    ours=("js",),
)
FOR_REACT = Package(
    "@belfry/react",
    REACT,
    frozenset(
        {
            "BelfryProvider",
            "Inbox",
            "useBelfry",
            "useInbox",
            "useNotificationEvents",
            "useUnreadCount",
            "useUnseenCount",
        }
    ),
    ours=("js", "react"),  # @belfry/client is a peer of @belfry/react's
    types=("@types/react@19.3.0",),
)
PACKAGES = pytest.mark.parametrize("package", [BROWSER_CLIENT, FOR_REACT], ids=str)


async def npm(*args: str, cwd: Path) -> Output:
    return await run_command(
        require_npm(), *args, "--prefer-offline", "--no-audit", "--no-fund", cwd=cwd
    )


async def imported_names(package: Package, app: Path) -> set[str]:
    """What `import "<package>"` gives a Node program in `app`."""
    program = f"import('{package.name}').then((m) => console.log(JSON.stringify(Object.keys(m))))"
    output = await run_command(require_node(), "--input-type=module", "-e", program, cwd=app)
    return set(json.loads(output.stdout))


def copy_of_the_repository(tmp_path: Path) -> Path:
    """The clients' folders as a clone has them: without their node_modules."""
    repository = tmp_path / "repository"
    for folder in (CLIENT, REACT):
        ignored = shutil.ignore_patterns("node_modules")
        shutil.copytree(folder, repository / "clients" / folder.name, ignore=ignored)
    return repository


async def packed(folder: Path, into: Path) -> Path:
    require_package(folder)
    output = await npm("pack", "--json", "--pack-destination", str(into), cwd=folder)
    [tarball] = json.loads(output.stdout)
    return into / str(tarball["filename"])


async def application_with(package: Package, tmp_path: Path) -> Path:
    """An application that has installed the package's tarball (and those it needs)."""
    app = tmp_path / "app"
    app.mkdir()
    manifest = {"name": "app", "version": "1.0.0", "private": True, "type": "module"}
    (app / "package.json").write_text(json.dumps(manifest))
    tarballs = [str(await packed(CLIENT.parent / folder, tmp_path)) for folder in package.ours]
    await npm("install", *tarballs, *package.types, cwd=app)
    return app


@PACKAGES
async def test_installing_the_folder_from_the_repository_root_makes_it_importable(
    package: Package, tmp_path: Path
) -> None:
    # Given a clone of the repository, without the clients' npm packages
    require_package(package.folder)
    repository = copy_of_the_repository(tmp_path)

    # When the package's folder (and those it needs) is installed from the repository's root
    await npm("install", *(f"./clients/{folder}" for folder in package.ours), cwd=repository)

    # Then a program there imports the package and finds its exports
    assert await imported_names(package, repository) >= package.exports


@PACKAGES
async def test_the_packed_tarball_installs_and_is_importable(
    package: Package, tmp_path: Path
) -> None:
    # When an application installs the package packed as it would be published
    app = await application_with(package, tmp_path)

    # Then it imports the package and finds its exports
    assert await imported_names(package, app) >= package.exports


@PACKAGES
async def test_an_application_type_checks_against_the_declarations(
    package: Package, tmp_path: Path
) -> None:
    # Given an application with the packed package installed, and TypeScript code using it
    app = await application_with(package, tmp_path)
    for source in (package.folder / "test" / "consumer").iterdir():
        shutil.copy(source, app / source.name)

    # When tsc checks it, then it compiles: the right uses pass, and each wrong one is caught
    # (an unused @ts-expect-error is an error, so types that were `any` would fail it)
    await run_command(str(CLIENT / "node_modules" / ".bin" / "tsc"), "-p", ".", cwd=app)


@PACKAGES
async def test_the_package_holds_its_module_declarations_and_readme_only(
    package: Package,
) -> None:
    # When the package is packed (a dry run)
    require_package(package.folder)
    output = await npm("pack", "--dry-run", "--json", cwd=package.folder)

    # Then it holds the manifest, the README, and dist: what the build makes, and only that
    [packed] = json.loads(output.stdout)
    files = {entry["path"] for entry in packed["files"]}
    dist = package.folder / "dist"
    built = {str(f.relative_to(package.folder)) for f in dist.rglob("*") if f.is_file()}
    assert files == {"package.json", "README.md"} | built
    assert any(name.endswith(".mjs") for name in built)
    assert any(name.endswith(".d.ts") for name in built)


@PACKAGES
async def test_publishing_the_package_is_clean(package: Package) -> None:
    # When the package is published as a dry run (offline: a dry run sends nothing, so a
    # placeholder stands in for the login a real publish needs)
    require_package(package.folder)
    output = await run_command(
        require_npm(),
        "publish",
        "--dry-run",
        "--offline",
        "--//registry.npmjs.org/:_authToken=dry-run",
        cwd=package.folder,
    )

    # Then npm publishes it publicly with nothing to warn about
    assert "npm warn" not in output.stderr.lower(), output.stderr
    assert "public access (dry-run)" in output.stderr
    assert output.stdout.strip() == f"+ {package.name}@0.1.0"
