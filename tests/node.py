"""Runs the Node scripts under clients/js/test/ that drive Belfry the way a front end does:
graphql-http's audit, graphql-ws, Apollo Client, and Chromium through Playwright. Without
Node, the client's packages (`npm ci --prefix clients/js`) or Chromium, these tests skip,
saying why; with CI set, they fail."""

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import unavailable

CLIENT = Path(__file__).resolve().parent.parent / "clients" / "js"
SCRIPTS = CLIENT / "test"
# Screenshots and other files a browser test leaves for a person to look at (git-ignored).
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js", FileNotFoundError("node is not on the PATH"))
    if not (CLIENT / "node_modules").is_dir():
        missing = FileNotFoundError("run npm ci --prefix clients/js")
        unavailable("the client's npm packages", missing)
    return str(node)


def require_chromium() -> str:
    browser = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if browser is None:
        unavailable("Chromium", FileNotFoundError("install Debian's chromium package"))
    return str(browser)


async def run_node(script: str, *args: str, timeout: float = 120) -> Any:
    """Runs clients/js/test/`script` with `args`; it prints one JSON document (its findings)
    on stdout, returned parsed. A script that fails fails the test with its output."""
    node = require_node()
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPTS / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=CLIENT,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{script} ran past {timeout} s") from None
    assert process.returncode == 0, f"{script} exited {process.returncode}:\n{err.decode()}"
    return json.loads(out)
