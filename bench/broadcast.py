"""One publish to every connected user: Belfry beside the raw baseline (and the socket.io peer,
where it exists), at 1,000 and 10,000 connected users.

Each system runs as its own server process on the same PostgreSQL and Redis (bench.servers);
its users' sockets are held by a pool of client processes (bench.clients). A round publishes
one notification to all of a system's users and times every frame from the start of the
publish call; rounds alternate between the systems, so that all of them meet the same machine
noise, and round 0 warms up uncounted. Printed per size and system: the median time to a
round's last frame, p50/p99 over every frame, and server CPU per round; and each system's
ratio to raw.

    uv run python -m bench.broadcast [--sizes 1000,10000] [--rounds 10]
"""

import argparse
import importlib
import json
import statistics
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, cast

from bench.clients import PER_CHILD, ClientPool
from bench.common import report, run, scratch_database, summary
from bench.processes import cpu_seconds
from bench.servers import Server, belfry, raw

ServerFactory = Callable[[str, list[str]], AbstractAsyncContextManager[Server]]


def _socketio() -> ServerFactory | None:
    """The socket.io + Redis peer, when the checkout has it and its packages are installed."""
    try:
        module = importlib.import_module("bench.socketio_peer")
        module.require_installed()
    except (ImportError, RuntimeError):
        return None
    start = cast(Callable[[str], AbstractAsyncContextManager[Server]], module.socketio)
    return lambda db_url, users: start(db_url)


def systems() -> dict[str, ServerFactory]:
    """Every system a benchmark compares, raw first: the others' ratios are to it."""
    found: dict[str, ServerFactory] = {"raw": lambda db_url, users: raw(db_url), "belfry": belfry}
    if (socketio := _socketio()) is not None:
        found["socketio"] = socketio
    return found


def user_names(count: int) -> list[str]:
    # Names of this run only: another run's raw server on the same Redis hears every raw
    # channel, and must not find a socket of its own under one of them.
    run_id = uuid.uuid4().hex[:8]
    return [f"u{run_id}-{i}" for i in range(count)]


@asynccontextmanager
async def serving_all(db_url: str, users: list[str]) -> AsyncIterator[dict[str, Server]]:
    """A fresh server process of every system, each knowing `users`."""
    async with AsyncExitStack() as stack:
        yield {
            name: await stack.enter_async_context(start(db_url, users))
            for name, start in systems().items()
        }


def ratios(figures: dict[str, dict[str, float]], keys: list[str]) -> dict[str, dict[str, float]]:
    base = figures["raw"]
    return {
        name: {key: round(values[key] / base[key], 2) for key in keys if base[key]}
        for name, values in figures.items()
        if name != "raw"
    }


async def measure_size(
    db_url: str, size: int, rounds: int, per_child: int = PER_CHILD
) -> dict[str, Any]:
    users = user_names(size)
    async with serving_all(db_url, users) as servers, AsyncExitStack() as stack:
        pools = {
            name: await stack.enter_async_context(
                ClientPool(server.dialer, users, per_child=per_child)
            )
            for name, server in servers.items()
        }
        for pool in pools.values():
            await pool.connect()
        latencies: dict[str, list[float]] = {name: [] for name in servers}
        last_frames: dict[str, list[float]] = {name: [] for name in servers}
        cpu: dict[str, float] = {name: 0.0 for name in servers}
        received: dict[str, int] = {name: 0 for name in servers}
        names = list(servers)
        for round_no in range(rounds + 1):
            # Each round in a turned order, so no system always follows the same one.
            turn = round_no % len(names)
            for name in names[turn:] + names[:turn]:
                server, title = servers[name], f"round {round_no}"
                cpu_before = cpu_seconds(server.pid)

                async def publish(server: Server = server, title: str = title) -> None:
                    await server.publish(users, title)

                frames = await pools[name].next_frames(title, publish)
                if frames.wrong or frames.missing:
                    raise RuntimeError(
                        f"{name}, round {round_no}: {frames.missing} sockets got nothing and "
                        f"{frames.wrong} another notification"
                    )
                if round_no:  # round 0 warms up
                    cpu[name] += cpu_seconds(server.pid) - cpu_before
                    latencies[name] += frames.latencies_ms()
                    last_frames[name].append(frames.last_ms())
                    received[name] += len(frames.arrivals)
        children = {name: pool.children for name, pool in pools.items()}
    figures: dict[str, dict[str, float]] = {
        name: {
            "last_frame_p50_ms": round(statistics.median(last_frames[name]), 3),
            **summary(latencies[name]),
            "server_cpu_ms_per_round": round(cpu[name] * 1000 / rounds, 1),
            "frames": received[name],
            "client_processes": children[name],
        }
        for name in servers
    }
    return {
        "users": size,
        "rounds": rounds,
        **figures,
        "ratio_to_raw": ratios(figures, ["last_frame_p50_ms", "p50_ms", "p99_ms"]),
    }


async def measure(
    db_url: str, sizes: list[int], rounds: int, per_child: int = PER_CHILD
) -> dict[str, Any]:
    """Figures per size (as a string key, for JSON), each size on fresh servers."""
    figures = {}
    for size in sizes:
        figures[str(size)] = await measure_size(db_url, size, rounds, per_child)
        print(json.dumps({str(size): figures[str(size)]}), flush=True)  # seen as it comes
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000", help="connected users, comma-separated")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    async with scratch_database() as db_url:
        figures = await measure(db_url, sizes, args.rounds)
    report("broadcast", figures)
    for size, at_size in figures.items():
        for name, ratio in at_size["ratio_to_raw"].items():
            print(
                f"{size} users: last frame {name} {at_size[name]['last_frame_p50_ms']} ms vs raw "
                f"{at_size['raw']['last_frame_p50_ms']} ms -> x{ratio['last_frame_p50_ms']}"
            )


if __name__ == "__main__":
    run(main)
