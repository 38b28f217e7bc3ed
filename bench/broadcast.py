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
import json
import statistics
from contextlib import AsyncExitStack
from typing import Any

from bench.clients import PER_CHILD, ClientPool
from bench.common import report, run, scratch_database, summary
from bench.processes import cpu_seconds
from bench.servers import Server, ratios, serving_all, user_names


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
