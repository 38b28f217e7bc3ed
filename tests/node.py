"""Runs the Node scripts under clients/js/test/ (and clients/react/test/) that drive Belfry
the way a front end does: graphql-http's audit, graphql-ws, Apollo Client, React, and Chromium
through Playwright; and npm and tsc on the packages. Without Node, the clients' packages
(`npm ci --prefix clients/js`, `npm ci --prefix clients/react`) or Chromium, these tests skip,
saying why; with CI set, they fail."""

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import unavailable

CLIENT = Path(__file__).resolve().parent.parent / "clients" / "js"
SCRIPTS = CLIENT / "test"
# @belfry/react, whose own scripts are under its test/ (npm ci --prefix clients/react).
REACT = CLIENT.parent / "react"
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


def require_package(package: Path) -> None:
    """The npm packages of a client's package besides clients/js (clients/react)."""
    if not (package / "node_modules").is_dir():
        missing = FileNotFoundError(f"run npm ci --prefix clients/{package.name}")
        unavailable(f"the npm packages of clients/{package.name}", missing)


def require_chromium() -> str:
    browser = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if browser is None:
        unavailable("Chromium", FileNotFoundError("install Debian's chromium package"))
    return str(browser)


def require_npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm", FileNotFoundError("npm is not on the PATH"))
    require_node()
    return str(npm)


@dataclass(frozen=True, slots=True)
class Output:
    stdout: str
    stderr: str


async def run_command(*argv: str, cwd: Path, timeout: float = 300) -> Output:
    """Runs a command (npm, node, a package's tool) in `cwd` and returns what it printed; one
    that fails fails the test with its output."""
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{argv} ran past {timeout} s") from None
    output = Output(out.decode(errors="replace"), err.decode(errors="replace"))
    assert process.returncode == 0, f"{argv} exited {process.returncode}:\n{output}"
    return output


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


Message = dict[str, Any]
Answer = Callable[[Message], Awaitable[Message | None]]


class NodeProcess:
    """A Node script that runs alongside the test, one JSON object a line each way. Every line
    it prints is kept in order; `answer`, when given, may reply to each one at once (a token
    request, say) while the test waits for others."""

    def __init__(self, process: asyncio.subprocess.Process, script: str, answer: Answer | None):
        self.process, self.script, self.answer = process, script, answer
        self.seen: list[Message] = []
        self._unread: asyncio.Queue[Message | None] = asyncio.Queue()
        self._stderr = bytearray()
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._drain())]

    async def send(self, message: Message) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()

    async def expect(self, wanted: Callable[[Message], bool], timeout: float = 30) -> Message:
        """The next message `wanted` accepts (earlier ones are skipped, but stay in `seen`)."""
        try:
            async with asyncio.timeout(timeout):
                while (message := await self._unread.get()) is not None:
                    if wanted(message):
                        return message
        except TimeoutError:
            pass
        raise AssertionError(
            f"{self.script} did not print the message wanted; last seen: {self.seen[-5:]}\n"
            f"stderr: {self._stderr.decode(errors='replace')}"
        )

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message: Message = json.loads(line)
            self.seen.append(message)
            reply = await self.answer(message) if self.answer else None
            if reply is not None:
                await self.send(reply)
            self._unread.put_nowait(message)
        self._unread.put_nowait(None)

    async def _drain(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(4096):
            self._stderr += chunk

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@asynccontextmanager
async def node_process(
    script: str, *args: str, answer: Answer | None = None, package: Path = CLIENT
) -> AsyncIterator[NodeProcess]:
    """Runs `script` of the package's test/ (clients/js/test/ unless told) for the block, then
    closes its stdin (the script's cue to end) and waits for it."""
    node = require_node()
    require_package(package)
    process = await asyncio.create_subprocess_exec(
        node,
        str(package / "test" / script),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=package,
    )
    running = NodeProcess(process, script, answer)
    try:
        yield running
    finally:
        await running.stop()
