"""The browser script Belfry serves (app/static/belfry/belfry.js) is committed, so the demo
needs no Node: it must be what the client's sources build to."""

import asyncio
import gzip
from pathlib import Path

from tests.node import CLIENT, require_node

SERVED = Path(__file__).resolve().parents[2] / "app" / "static" / "belfry" / "belfry.js"


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


async def test_the_served_bundle_is_the_build_of_the_sources(tmp_path: Path) -> None:
    # Given a fresh build of clients/js
    await build_into(tmp_path)

    # Then the committed browser script is byte for byte the same
    fresh = (tmp_path / "belfry.js").read_bytes()
    assert SERVED.read_bytes() == fresh, "run `npm run build --prefix clients/js` and commit"


async def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    await build_into(tmp_path / "a")
    await build_into(tmp_path / "b")

    for name in ("belfry.js", "belfry.mjs"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


MAX_GZIPPED = 40 * 1024


def test_the_served_bundle_stays_under_40_kib_gzipped() -> None:
    # Given the browser script Belfry serves, as a browser fetches it compressed
    gzipped = gzip.compress(SERVED.read_bytes(), compresslevel=9)

    # Then it weighs less than the budget
    assert len(gzipped) < MAX_GZIPPED, f"{len(gzipped)} bytes gzipped"
