"""The browser client's npm package (clients/js) as an application gets it: installed from
the repository's folder or from its tarball, imported, type-checked against its
declarations, and packed and published (dry runs) with nothing missing or left over.

npm installs from its cache where it can (`npm ci --prefix clients/js` filled it)."""

import json
import shutil
from pathlib import Path

from tests.node import CLIENT, Output, require_node, require_npm, run_command

EXPORTS = {
    "BelfryError",
    "BelfryInboxElement",
    "createBelfryClient",
    "createInboxStore",
    "defineBelfryInbox",
    "safeLink",
    "tokenExpiry",
    "tokenFromEndpoint",
}
CONSUMER = CLIENT / "test" / "consumer"
IMPORTED = "import('@belfry/client').then((m) => console.log(JSON.stringify(Object.keys(m))))"


async def npm(*args: str, cwd: Path) -> Output:
    return await run_command(
        require_npm(), *args, "--prefer-offline", "--no-audit", "--no-fund", cwd=cwd
    )


async def imported_names(app: Path) -> set[str]:
    """What `import "@belfry/client"` gives a Node program in `app`."""
    output = await run_command(require_node(), "--input-type=module", "-e", IMPORTED, cwd=app)
    return set(json.loads(output.stdout))


def copy_of_the_repository(tmp_path: Path) -> Path:
    """The package's folder as a clone has it: without its node_modules."""
    repository = tmp_path / "repository"
    ignored = shutil.ignore_patterns("node_modules")
    shutil.copytree(CLIENT, repository / "clients" / "js", ignore=ignored)
    return repository


async def packed(tmp_path: Path) -> Path:
    output = await npm("pack", "--json", "--pack-destination", str(tmp_path), cwd=CLIENT)
    [tarball] = json.loads(output.stdout)
    return tmp_path / str(tarball["filename"])


def application(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    manifest = {"name": "app", "version": "1.0.0", "private": True, "type": "module"}
    (app / "package.json").write_text(json.dumps(manifest))
    return app


async def test_installing_the_folder_from_the_repository_root_makes_it_importable(
    tmp_path: Path,
) -> None:
    # Given a clone of the repository, without the client's npm packages
    repository = copy_of_the_repository(tmp_path)

    # When the client's folder is installed from the repository's root
    await npm("install", "./clients/js", cwd=repository)

    # Then a program there imports the package and finds its exports
    assert await imported_names(repository) >= EXPORTS


async def test_the_packed_tarball_installs_and_is_importable(tmp_path: Path) -> None:
    # Given the package packed as it would be published
    tarball = await packed(tmp_path)

    # When an application installs the tarball
    app = application(tmp_path)
    await npm("install", str(tarball), cwd=app)

    # Then it imports the package and finds its exports
    assert await imported_names(app) >= EXPORTS


async def test_an_application_type_checks_against_the_declarations(tmp_path: Path) -> None:
    # Given an application with the packed package installed, and TypeScript code using it
    app = application(tmp_path)
    await npm("install", str(await packed(tmp_path)), cwd=app)
    for name in ("app.ts", "tsconfig.json"):
        shutil.copy(CONSUMER / name, app / name)

    # When tsc checks it, then it compiles: the right uses pass, and each wrong one is caught
    # (an unused @ts-expect-error is an error, so types that were `any` would fail it)
    await run_command(str(CLIENT / "node_modules" / ".bin" / "tsc"), "-p", ".", cwd=app)


async def test_the_package_holds_its_module_declarations_and_readme_only() -> None:
    # When the package is packed (a dry run)
    output = await npm("pack", "--dry-run", "--json", cwd=CLIENT)

    # Then it holds the manifest, the README, the module and a declaration for each module
    [packed] = json.loads(output.stdout)
    files = {entry["path"] for entry in packed["files"]}
    declarations = {f"dist/types/{f.stem}.d.ts" for f in (CLIENT / "src").glob("*.js")}
    assert files == {"package.json", "README.md", "dist/belfry.mjs", "dist/types/belfry.d.ts"} | (
        declarations
    )


async def test_publishing_the_package_is_clean() -> None:
    # When the package is published as a dry run (offline: a dry run sends nothing, so a
    # placeholder stands in for the login a real publish needs)
    output = await run_command(
        require_npm(),
        "publish",
        "--dry-run",
        "--offline",
        "--//registry.npmjs.org/:_authToken=dry-run",
        cwd=CLIENT,
    )

    # Then npm publishes it publicly with nothing to warn about
    assert "npm warn" not in output.stderr.lower(), output.stderr
    assert "public access (dry-run)" in output.stderr
    assert output.stdout.strip() == "+ @belfry/client@0.1.0"
