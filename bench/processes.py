"""Server processes under test: starting them, and reading their CPU time and memory."""

import gc
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def proc_field(pid: int, name: str) -> str:
    with open(f"/proc/{pid}/{name}") as f:
        return f.read()


def cpu_seconds(pid: int) -> float:
    fields = proc_field(pid, "stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in proc_field(pid, "status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@contextmanager
def serving(
    args: list[str], env: dict[str, str], port: int, cwd: str | None = None
) -> Iterator[int]:
    """Runs a server process until it answers HTTP on `port`; yields its pid."""
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{args[:3]} did not start") from None
                time.sleep(0.1)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def collections_between_rounds() -> Iterator[None]:
    """The bench process holds every client socket, so its own full garbage collections (about
    90 ms with 1,000 sockets open) would stall the frames of whichever server is being
    measured. The caller runs them between rounds instead, outside the timed window."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
