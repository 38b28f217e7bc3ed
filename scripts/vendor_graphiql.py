"""Copies the files Strawberry's GraphiQL page loads from unpkg.com into app/static/graphiql/,
so that Belfry serves GraphiQL with no request to another host (app/http/graphiql.py). Run it
after upgrading strawberry-graphql, when tests/http/test_graphiql.py says an asset is missing:

    uv run python scripts/vendor_graphiql.py

It needs npm (the registry only); each file is checked against the page's integrity hash."""

import base64
import hashlib
import io
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

from app.http.graphiql import ASSETS, remote_assets


def fetch(package: str, version: str) -> tarfile.TarFile:
    with tempfile.TemporaryDirectory() as folder:
        name = subprocess.run(
            ["npm", "pack", "--silent", f"{package}@{version}"],
            cwd=folder,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return tarfile.open(fileobj=io.BytesIO((Path(folder) / name).read_bytes()))


def write_provenance(archive: tarfile.TarFile, folder: Path) -> None:
    """The package's package.json (its name, version and licence) and licence text, if any."""
    for member in archive.getmembers():
        name = member.name.removeprefix("package/")
        if name == "package.json" or re.fullmatch(r"licen[cs]e(\.\w+)?", name, re.IGNORECASE):
            content = archive.extractfile(member)
            assert content is not None
            (folder / name).write_bytes(content.read())


def main() -> None:
    if ASSETS.exists():
        shutil.rmtree(ASSETS)
    for asset in remote_assets(get_graphql_ide_html(graphql_ide="graphiql")):
        archive = fetch(asset.package, asset.version)
        content = archive.extractfile(f"package/{asset.path}")
        assert content is not None, asset
        data = content.read()
        digest = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        if asset.integrity and digest != asset.integrity:
            raise SystemExit(f"{asset.url}: integrity {digest} is not the page's {asset.integrity}")
        target = ASSETS / asset.local_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        write_provenance(archive, ASSETS / f"{asset.package}@{asset.version}")
        print(f"{asset.url} -> {target}")


if __name__ == "__main__":
    main()
