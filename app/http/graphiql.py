"""GraphiQL with no request to another host: Strawberry's page loads its scripts and styles
from unpkg.com, which a self-hosted server often cannot reach, so Belfry serves the same files
(app/static/graphiql/, copied by scripts/vendor_graphiql.py and checked against the page's
integrity hashes) and points the page at them."""

import re
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = STATIC / "graphiql"
# Relative to /graphql, so that the page also works behind a proxy that adds a path prefix.
SERVED_FROM = "static/graphiql/"

_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.DOTALL)
_URL = re.compile(r'(?:src|href)="(https://unpkg\.com/(@?[^@"]+)@([^/"]+)/([^"]+))"')
_INTEGRITY = re.compile(r'integrity="([^"]+)"')


@dataclass(frozen=True)
class RemoteAsset:
    url: str
    package: str
    version: str
    path: str
    integrity: str | None

    @property
    def local_path(self) -> str:
        return f"{self.package}@{self.version}/{self.path}"


def remote_assets(page: str) -> list[RemoteAsset]:
    assets = []
    for tag in _TAG.findall(page):
        url = _URL.search(tag)
        if url is None:
            continue
        address, package, version, path = url.groups()
        integrity = _INTEGRITY.search(tag)
        assets.append(
            RemoteAsset(address, package, version, path, integrity.group(1) if integrity else None)
        )
    return assets


def offline(page: str) -> str:
    """`page` loading the files Belfry serves instead of unpkg's."""
    for asset in remote_assets(page):
        page = page.replace(asset.url, SERVED_FROM + asset.local_path)
    return page
