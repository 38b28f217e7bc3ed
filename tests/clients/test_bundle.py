"""What the clients' sources build to is committed, so that neither Belfry's demo nor an
installation of an npm package needs to build anything: the browser script Belfry serves
(app/static/belfry/belfry.js), and each package's ES module and declarations (clients/js/dist,
clients/react/dist). Each must be what the sources build to."""

import asyncio
import gzip
from pathlib import Path

from tests.node import CLIENT, REACT, require_node, require_package

SERVED = Path(__file__).resolve().parents[2] / "app" / "static" / "belfry" / "belfry.js"


def rebuild(package: Path) -> str:
    return f"run `npm run build --prefix clients/{package.name}` and commit"


async def build_into(out_dir: Path, package: Path = CLIENT) -> None:
    node = require_node()
    require_package(package)
    process = await asyncio.create_subprocess_exec(
        node,
        str(package / "build.mjs"),
        "--out-dir",
        str(out_dir),
        cwd=package,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()


def files_under(root: Path) -> dict[str, bytes]:
    files = sorted(f for f in root.rglob("*") if f.is_file())
    return {str(f.relative_to(root)): f.read_bytes() for f in files}


def assert_same_files(committed: Path, fresh: Path, package: Path) -> None:
    """Byte for byte the same files, and no other."""
    was, now = files_under(committed), files_under(fresh)
    assert sorted(was) == sorted(now), rebuild(package)
    assert [name for name in now if was[name] != now[name]] == [], rebuild(package)


async def test_the_served_bundle_is_the_build_of_the_sources(tmp_path: Path) -> None:
    # Given a fresh build of clients/js
    await build_into(tmp_path)

    # Then the committed browser script is byte for byte the same
    fresh = (tmp_path / "belfry.js").read_bytes()
    assert SERVED.read_bytes() == fresh, rebuild(CLIENT)


async def test_the_client_packages_module_and_declarations_are_the_build_of_the_sources(
    tmp_path: Path,
) -> None:
    # Given a fresh build of clients/js
    await build_into(tmp_path)
    (tmp_path / "belfry.js").unlink()  # the served script, above

    # Then clients/js/dist holds the same files
    assert_same_files(CLIENT / "dist", tmp_path, CLIENT)


async def test_the_react_packages_module_and_declarations_are_the_build_of_the_sources(
    tmp_path: Path,
) -> None:
    # Given a fresh build of clients/react
    await build_into(tmp_path, REACT)

    # Then clients/react/dist holds the same files
    assert_same_files(REACT / "dist", tmp_path, REACT)


async def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    for package in (CLIENT, REACT):
        await build_into(tmp_path / package.name / "a", package)
        await build_into(tmp_path / package.name / "b", package)

        assert files_under(tmp_path / package.name / "a") == files_under(
            tmp_path / package.name / "b"
        )


MAX_GZIPPED = 40 * 1024


def test_the_served_bundle_stays_under_40_kib_gzipped() -> None:
    # Given the browser script Belfry serves, as a browser fetches it compressed
    gzipped = gzip.compress(SERVED.read_bytes(), compresslevel=9)

    # Then it weighs less than the budget
    assert len(gzipped) < MAX_GZIPPED, f"{len(gzipped)} bytes gzipped"
