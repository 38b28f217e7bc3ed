"""Notifications per second through `publishNotification`, beside raw COPY, on PostgreSQL.

System: the `publishNotification` mutation through the whole ASGI app with the tenant's API
key, as a host backend calls it, one call at a time: `--single-calls` calls with one
recipient each, and `--bulk-calls` calls with `--batch` (1,000) recipients each. The
recipients already exist (written before the timing, as `upsertUser` would leave them), and
the app has met them before (an untimed warm-up publishes to every one), as a running
service has. Each notification is one transaction's share of: the notification row, its
unread counter, its in-app delivery row (the tenant has no other channel enabled), with every
index, unique key and foreign key the models declare.

Raw baseline, same run (`raw_copy`): asyncpg `copy_records_to_table` of the same notification
rows (all the columns a publish fills) into a plain table of the same columns (no index, no
key), with the same batch shapes: one row per COPY call, `--batch` rows per COPY call.
Target: the system at least 0.5x raw COPY.

A team publish (`system_team`, bulk only) sends the same calls to a team of `--batch` members
instead of listing them: what expanding a team adds to a publish of that size.

A second raw figure (`raw_tables`) shows the database's own share: plain asyncpg writing what
a publish writes into Belfry's real tables, in one transaction per call (COPY notifications,
the counters' upsert, COPY in-app deliveries), with no app in between.

The three alternate over `--rounds` rounds, so all meet the same machine.

    uv run python -m bench.throughput [--single-calls 2000] [--bulk-calls 40] [--batch 1000]
"""

import argparse
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from app.db import new_ids
from app.main import create_app
from app.services import teams, tenants
from bench.common import asyncpg_dsn, bench_settings, report, run, scratch_database

CATEGORY = "call.daily_summary"
RAW_CATEGORY = "call.monthly_summary"  # raw_tables' rows, told apart from the system's
TITLE = "Yesterday's calls"
BODY = "12 calls, 3 missed."
LINK = "/calls/daily"
DATA = {"calls": 12, "missed": 3}
MUTATION = """mutation Publish($input: PublishNotificationInput!) {
  publishNotification(input: $input) { count }
}"""
# The columns a publish fills; read_at stays NULL.
COLUMNS = [
    "id",
    "tenant_id",
    "recipient_id",
    "category",
    "title",
    "body",
    "link",
    "data",
    "idempotency_key",
    "deleted_at",
    "created_at",
]
DELIVERY_COLUMNS = [
    "id",
    "tenant_id",
    "notification_id",
    "recipient_id",
    "category",
    "channel",
    "status",
    "forced",
    "attempt_count",
    "created_at",
    "sent_at",
]
# What counters.count_new runs on PostgreSQL.
COUNT_NEW = (
    "WITH changed AS ("
    "INSERT INTO inbox_counters (id, user_id, category, total, unread) "
    "SELECT gen_random_uuid(), u, $2, 1, 1 FROM unnest($1::uuid[]) AS u "
    "ON CONFLICT (user_id, category) DO UPDATE SET "
    "total = inbox_counters.total + excluded.total, "
    "unread = inbox_counters.unread + excluded.unread RETURNING user_id, unread) "
    "SELECT user_id, unread + COALESCE((SELECT SUM(c.unread) FROM inbox_counters c "
    "WHERE c.user_id = changed.user_id AND c.category <> $2), 0) AS unread FROM changed"
)
RAW_TABLE = "copy_notifications"  # apart from bench/raw_server.py's table
SIDES = ("system", "raw_copy", "raw_tables")
SHAPES = ("single", "bulk")
TEAM_SIDE = "system_team"  # bulk only
ALL_SIDES = (*SIDES, TEAM_SIDE)


def team_key(i: int) -> str:
    return f"team-{i}"


Call = Callable[[slice], Awaitable[None]]


def notification_rows(
    tenant_id: UUID, recipients: list[UUID], category: str = CATEGORY
) -> list[tuple[Any, ...]]:
    """What a publish to these users writes to notifications, built per call as it does."""
    now, data = datetime.now(UTC), json.dumps(DATA)
    return [
        (nid, tenant_id, user_id, category, TITLE, BODY, LINK, data, None, None, now)
        for nid, user_id in zip(new_ids(len(recipients)), recipients, strict=True)
    ]


class Sides:
    """The three ways of writing the notifications for a slice of the users."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        raw: asyncpg.Connection,
        tenant_id: UUID,
        users: list[tuple[str, UUID]],
        batch: int,
    ) -> None:
        self.client, self.raw, self.tenant_id = client, raw, tenant_id
        self.external_ids = [external_id for external_id, _ in users]
        self.user_ids = [user_id for _, user_id in users]
        self.batch = batch

    async def system(self, recipients: slice) -> None:
        await self._publish(len(self.external_ids[recipients]), self.external_ids[recipients])

    async def system_team(self, recipients: slice) -> None:
        """The same users as one of the teams made_teams made (a bulk slice's)."""
        await self._publish(self.batch, [], (team_key(recipients.start // self.batch),))

    async def made_teams(self) -> None:
        """A team for each batch of users, as bulk calls slice them."""
        for i in range(len(self.external_ids) // self.batch):
            members = self.external_ids[i * self.batch : (i + 1) * self.batch]
            await teams.upsert(tenant_id=self.tenant_id, key=team_key(i), name=f"Team {i}")
            await teams.set_members(tenant_id=self.tenant_id, key=team_key(i), external_ids=members)

    async def _publish(
        self, reaching: int, external_ids: list[str], keys: tuple[str, ...] = ()
    ) -> None:
        variables = {
            "input": {
                "recipients": external_ids,
                "teams": list(keys),
                "category": CATEGORY,
                "title": TITLE,
                "body": BODY,
                "link": LINK,
                "data": DATA,
            }
        }
        response = await self.client.post(
            "/graphql", json={"query": MUTATION, "variables": variables}
        )
        body = response.json()
        assert body.get("data", {}).get("publishNotification") == {"count": reaching}, body

    async def raw_copy(self, recipients: slice) -> None:
        rows = notification_rows(self.tenant_id, self.user_ids[recipients])
        await self.raw.copy_records_to_table(RAW_TABLE, records=rows, columns=COLUMNS)

    async def raw_tables(self, recipients: slice) -> None:
        user_ids = self.user_ids[recipients]
        rows = notification_rows(self.tenant_id, user_ids, RAW_CATEGORY)
        now = rows[0][-1]
        deliveries = [
            (
                did,
                self.tenant_id,
                row[0],
                row[2],
                RAW_CATEGORY,
                "IN_APP",
                "SENT",
                False,
                1,
                now,
                now,
            )
            for did, row in zip(new_ids(len(rows)), rows, strict=True)
        ]
        async with self.raw.transaction():
            await self.raw.copy_records_to_table("notifications", records=rows, columns=COLUMNS)
            await self.raw.fetch(COUNT_NEW, user_ids, RAW_CATEGORY)
            await self.raw.copy_records_to_table(
                "deliveries", records=deliveries, columns=DELIVERY_COLUMNS
            )


async def seconds_for(call: Call, slices: list[slice]) -> float:
    """Calls made one after another, as one producer makes them."""
    start = time.perf_counter()
    for recipients in slices:
        await call(recipients)
    return time.perf_counter() - start


async def measure(
    url: str,
    *,
    single_calls: int,
    bulk_calls: int,
    batch: int,
    rounds: int = 4,
    gc_tuning: bool = True,
) -> dict[str, Any]:
    """Publish into the migrated database at `url`, and write raw beside it. A test process
    passes gc_tuning=False (the app would freeze the test's heap)."""
    if min(single_calls, bulk_calls, batch, rounds) < 1:
        raise ValueError("every size must be at least 1")
    # Enough users that a bulk call meets other users than the call before; whole batches,
    # so that every bulk call has `batch` of them.
    population = batch * max(2, -(-min(single_calls, 10_000) // batch))
    users = list(zip([f"user-{i}" for i in range(population)], new_ids(population), strict=True))

    def slices(calls: range, size: int) -> list[slice]:
        return [slice(i * size % population, i * size % population + size) for i in calls]

    settings = bench_settings(url, gc_tuning=gc_tuning)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        tenant = (await tenants.create_tenant(name="bench", box=settings.secret_box)).record
        key = (await tenants.create_api_key(tenant_id=tenant.id, announce=False)).plain_key
        raw = await asyncpg.connect(asyncpg_dsn(url))
        try:
            now = datetime.now(UTC)
            await raw.copy_records_to_table(
                "users",
                records=[(user_id, tenant.id, e, "MEMBER", now, now) for e, user_id in users],
                columns=["id", "tenant_id", "external_id", "role", "created_at", "updated_at"],
            )
            await raw.execute(f"CREATE TABLE {RAW_TABLE} (LIKE notifications INCLUDING DEFAULTS)")
            await raw.execute("VACUUM (ANALYZE) users")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://bench",
                headers={"authorization": f"Bearer {key}"},
                timeout=120,
            ) as client:
                sides = Sides(client, raw, tenant.id, users, batch)
                await sides.made_teams()
                calls: dict[str, Call] = {side: getattr(sides, side) for side in ALL_SIDES}
                # Warm-up, untimed: every user once on each side (the app resolves a user by
                # its external id once, then remembers it).
                warm = slices(range(population // batch), batch)
                for side in ALL_SIDES:
                    await seconds_for(calls[side], warm)
                seconds = dict.fromkeys((f"{s}_{shape}" for s in SIDES for shape in SHAPES), 0.0)
                seconds[f"{TEAM_SIDE}_bulk"] = 0.0
                for shape, count, size in (
                    ("single", single_calls, 1),
                    ("bulk", bulk_calls, batch),
                ):
                    step = -(-count // rounds)
                    for first in range(0, count, step):
                        part = slices(range(first, min(count, first + step)), size)
                        for side in (*SIDES, TEAM_SIDE) if shape == "bulk" else SIDES:
                            seconds[f"{side}_{shape}"] += await seconds_for(calls[side], part)
            written = {
                category: await raw.fetchval(
                    "SELECT count(*) FROM notifications WHERE tenant_id = $1 AND category = $2",
                    tenant.id,
                    category,
                )
                for category in (CATEGORY, RAW_CATEGORY)
            }
            delivered = await raw.fetchval(
                "SELECT count(*) FROM deliveries WHERE tenant_id = $1 AND category = $2",
                tenant.id,
                CATEGORY,
            )
            copied = await raw.fetchval(f"SELECT count(*) FROM {RAW_TABLE}")
        finally:
            await raw.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
            await raw.close()

    timed = {"single": single_calls, "bulk": bulk_calls * batch}
    rates = {name: timed[name.rsplit("_", 1)[1]] / spent for name, spent in seconds.items()}

    def ratio(shape: str, over: str, under: str) -> float:
        return round(rates[f"{over}_{shape}"] / rates[f"{under}_{shape}"], 3)

    return {
        "users": population,
        "batch": batch,
        "single_calls": single_calls,
        "bulk_calls": bulk_calls,
        # Everything each side wrote, warm-up included.
        "notifications_written": written[CATEGORY],
        "deliveries_written": delivered,
        "raw_copy_rows": copied,
        "raw_tables_rows": written[RAW_CATEGORY],
        **{f"{name}_per_second": round(rate, 1) for name, rate in rates.items()},
        **{
            f"{shape}_{over}_over_{under}": ratio(shape, over, under)
            for shape in SHAPES
            for over, under in (
                ("system", "raw_copy"),
                ("raw_tables", "raw_copy"),
                ("system", "raw_tables"),
            )
        },
        "bulk_system_team_over_system": ratio("bulk", TEAM_SIDE, "system"),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single-calls", type=int, default=2000)
    parser.add_argument("--bulk-calls", type=int, default=40)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    async with scratch_database() as url:
        figures = await measure(
            url,
            single_calls=args.single_calls,
            bulk_calls=args.bulk_calls,
            batch=args.batch,
            rounds=args.rounds,
        )
    report("throughput", figures)
    for shape, label in (("single", "1 recipient"), ("bulk", f"{args.batch:,} recipients")):
        print(
            f"{label} per call: system {figures[f'system_{shape}_per_second']:,.0f}/s, "
            f"raw COPY {figures[f'raw_copy_{shape}_per_second']:,.0f}/s: "
            f"x{figures[f'{shape}_system_over_raw_copy']} (target >= 0.5); "
            f"raw into Belfry's tables {figures[f'raw_tables_{shape}_per_second']:,.0f}/s "
            f"(x{figures[f'{shape}_raw_tables_over_raw_copy']} of raw COPY)"
        )
    print(
        f"a team of {args.batch:,} per call: {figures[f'{TEAM_SIDE}_bulk_per_second']:,.0f}/s, "
        f"x{figures['bulk_system_team_over_system']} of listing the same recipients"
    )


if __name__ == "__main__":
    run(main)
