"""What a request costs the server before any notification work, beside raw's whole publish:
server CPU per request, one request at a time, for

- raw: the raw server's publish (bench/raw_server.py: an asyncpg INSERT, a Redis PUBLISH and the
  websocket send), the baseline;
- belfry health: `GET /healthz`, uvicorn, Starlette and Belfry's middleware;
- belfry typename: `{ __typename }` with the API key: authentication, the rate limit and
  Strawberry, every GraphQL request's share;
- belfry publish: `publishNotification` to one user with a socket open.

The figures are the medians of `--runs` runs of `--requests` requests each, rotating between
the kinds so that all of them meet the same machine noise.

    uv run python -m bench.floor [--requests 1000] [--runs 3]
"""

import argparse
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.common import report, run, scratch_database
from bench.processes import cpu_seconds
from bench.servers import PUBLISHER_LIMITS, Server, belfry, raw, user_names

Call = Callable[[int], Awaitable[None]]


async def cpu_ms_per_call(server: Server, call: Call, requests: int) -> float:
    for i in range(min(100, requests)):  # warm-up
        await call(i)
    before = cpu_seconds(server.pid)
    for i in range(requests):
        await call(i)
    return (cpu_seconds(server.pid) - before) * 1000 / requests


def belfry_plumbing(server: Server, client: httpx.AsyncClient) -> dict[str, Call]:
    async def health(i: int) -> None:
        (await client.get("/healthz")).raise_for_status()

    async def typename(i: int) -> None:
        body = {"query": "{ __typename }"}
        response = await client.post("/graphql", json=body, headers=server.headers)
        assert response.json() == {"data": {"__typename": "Query"}}

    return {"belfry health": health, "belfry typename": typename}


async def measure(db_url: str, requests: int, runs: int) -> dict[str, Any]:
    [user] = user_names(1)
    async with (
        raw(db_url) as raw_server,
        belfry(db_url, [user]) as belfry_server,
        httpx.AsyncClient(base_url=belfry_server.url, limits=PUBLISHER_LIMITS) as client,
    ):
        # Each publish has a subscriber to reach, as in the steady stream.
        raw_socket = await raw_server.dialer.connect(user)
        belfry_socket = await belfry_server.dialer.connect(user)

        async def raw_publish(i: int) -> None:
            await raw_server.publish([user], f"floor {i}")
            await raw_server.dialer.next_title(raw_socket)

        async def belfry_publish(i: int) -> None:
            await belfry_server.publish([user], f"floor {i}")
            await belfry_server.dialer.next_title(belfry_socket)

        kinds: dict[str, tuple[Server, Call]] = {"raw publish": (raw_server, raw_publish)}
        for name, call in belfry_plumbing(belfry_server, client).items():
            kinds[name] = (belfry_server, call)
        kinds["belfry publish"] = (belfry_server, belfry_publish)
        samples: dict[str, list[float]] = {name: [] for name in kinds}
        for _ in range(runs):
            for name, (server, call) in kinds.items():
                samples[name].append(await cpu_ms_per_call(server, call, requests))
        await raw_socket.close()
        await belfry_socket.close()
    base = statistics.median(samples["raw publish"])
    return {
        "requests": requests,
        "runs": runs,
        "cpu_ms_per_request": {
            name: {
                "ms": round(statistics.median(values), 3),
                "over_raw_publish": round(statistics.median(values) / base, 2) if base else None,
            }
            for name, values in samples.items()
        },
    }


def table(figures: dict[str, Any]) -> str:
    lines = ["| request | server CPU ms | / raw publish |", "| --- | --- | --- |"]
    for name, f in figures["cpu_ms_per_request"].items():
        lines.append(f"| {name} | {f['ms']} | {f['over_raw_publish']} |")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    async with scratch_database() as db_url:
        figures = await measure(db_url, args.requests, args.runs)
    report("floor", figures)
    print(table(figures))


if __name__ == "__main__":
    run(main)
