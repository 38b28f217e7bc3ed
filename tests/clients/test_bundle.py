"""What the client's sources build to is committed, so that neither Belfry's demo nor an
installation of the npm package needs to build anything: the browser script Belfry serves
(app/static/belfry/belfry.js) and the package's ES module and declarations (clients/js/dist).
Each must be what the sources build to."""

import asyncio
from pathlib import Path

from tests.node import CLIENT, require_node

SERVED = Path(__file__).resolve().parents[2] / "app" / "static" / "belfry" / "belfry.js"
DIST = CLIENT / "dist"
REBUILD = "run `npm run build --prefix clients/js` and commit"


async def build_into(out_dir: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        require_node(),
        str(CLIENT / "build.mjs"),
        "--out-dir",
        str(out_dir),
        cwd=CLIENT,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()


def files_under(root: Path) -> dict[str, bytes]:
    files = sorted(f for f in root.rglob("*") if f.is_file())
    return {str(f.relative_to(root)): f.read_bytes() for f in files}


async def test_the_served_bundle_is_the_build_of_the_sources(tmp_path: Path) -> None:
    # Given a fresh build of clients/js
    await build_into(tmp_path)

    # Then the committed browser script is byte for byte the same
    fresh = (tmp_path / "belfry.js").read_bytes()
    assert SERVED.read_bytes() == fresh, REBUILD


async def test_the_packages_module_and_declarations_are_the_build_of_the_sources(
    tmp_path: Path,
) -> None:
    # Given a fresh build of clients/js
    await build_into(tmp_path)
    (tmp_path / "belfry.js").unlink()  # the served script, above

    # Then clients/js/dist holds the same files, byte for byte, and no other
    fresh, committed = files_under(tmp_path), files_under(DIST)
    assert sorted(committed) == sorted(fresh), REBUILD
    assert [name for name in fresh if committed[name] != fresh[name]] == [], REBUILD


async def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    await build_into(tmp_path / "a")
    await build_into(tmp_path / "b")

    assert files_under(tmp_path / "a") == files_under(tmp_path / "b")
