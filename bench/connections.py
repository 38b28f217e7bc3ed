"""Memory per idle subscribed socket: Belfry beside the raw baseline (and the socket.io peer,
where it exists), at 1,000 and 10,000 sockets. Target: Belfry at most 1.5x raw at both.

For each size every system gets a fresh server process (bench.servers). A few sockets are
opened first, so that what the first subscription builds once (compiled queries, pools,
caches) is not counted as if every socket carried it; then the server's resident memory is
read, N more subscribed sockets are opened from client processes (bench.clients), and after a
settle pause it is read again: (after - before) / N. The systems take their turns in a
different order at each size.

    uv run python -m bench.connections [--sizes 1000,10000] [--settle 3]
"""

import argparse
import asyncio
import json
from typing import Any

from bench.clients import PER_CHILD, ClientPool
from bench.common import report, run, scratch_database
from bench.processes import rss_kib
from bench.servers import Server, ratios, serving_all, user_names

WARM_UP = 20
TARGET_RATIO = 1.5


async def per_socket(
    server: Server, users: list[str], settle: float, per_child: int
) -> dict[str, float]:
    """KiB of the server's RSS per socket of `users` past the first WARM_UP."""
    async with ClientPool(server.dialer, users, per_child=per_child) as pool:
        await pool.connect(WARM_UP)
        await asyncio.sleep(settle)
        before = rss_kib(server.pid)
        await pool.connect()
        await asyncio.sleep(settle)
        after = rss_kib(server.pid)
        measured = len(pool) - WARM_UP
    return {
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_socket": round((after - before) / measured, 2),
    }


async def measure_size(
    db_url: str, size: int, settle: float, per_child: int = PER_CHILD, turn: int = 0
) -> dict[str, Any]:
    users = user_names(WARM_UP + size)
    async with serving_all(db_url, users) as servers:
        order = list(servers)
        order = order[turn % len(order) :] + order[: turn % len(order)]
        figures = {
            name: await per_socket(servers[name], users, settle, per_child) for name in order
        }
    figures = {name: figures[name] for name in servers}  # raw first again
    return {"sockets": size, **figures, "ratio_to_raw": ratios(figures, ["kib_per_socket"])}


async def measure(
    db_url: str, sizes: list[int], settle: float = 3.0, per_child: int = PER_CHILD
) -> dict[str, Any]:
    """Figures per size (as a string key, for JSON), each size on fresh servers."""
    figures = {}
    for turn, size in enumerate(sizes):
        figures[str(size)] = await measure_size(db_url, size, settle, per_child, turn)
        print(json.dumps({str(size): figures[str(size)]}), flush=True)  # seen as it comes
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000", help="sockets, comma-separated")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before reading RSS")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    async with scratch_database() as db_url:
        figures = await measure(db_url, sizes, args.settle)
    report("connections", figures)
    for size, at_size in figures.items():
        for name, ratio in at_size["ratio_to_raw"].items():
            print(
                f"{size} sockets: {name} {at_size[name]['kib_per_socket']} KiB per socket vs raw "
                f"{at_size['raw']['kib_per_socket']} -> x{ratio['kib_per_socket']}"
                + (f" (target: at most x{TARGET_RATIO})" if name == "belfry" else "")
            )


if __name__ == "__main__":
    run(main)
