"""Inbox reads on a large table, on PostgreSQL: deep keyset pages and the unread and unseen
badges.

The notifications table holds `--total` rows (1,000,000), `--big` of them (100,000, all
unread) in one user's inbox, 10 unread in a second user's, and the rest spread over many
users of several tenants (half of theirs read), with the counters publishing would have left.
Rows go in by COPY, then VACUUM ANALYZE, as a table in steady state would be.

System, through the whole ASGI app with the user's token (auth, GraphQL, services, ORM):
- the `notifications(first: 50)` page, and the page `--depth` (50,000) rows in, reached with
  `after:` the cursor of the row before it (built as the API builds cursors). Target: the deep
  page's p50 at most 1.5x the first page's;
- `{ unreadCount }` and `{ unseenCount }` for the user with 100,000 unread (and unseen) and
  for the one with 10.

Raw baseline, same run: plain asyncpg, no app: the keyset SQL for both pages (a row
comparison `(created_at, id) < (...)`) and `count(*)` over each user's unread rows, which is
what the badge would cost without the counters.

The eight calls take turns, run by run, so every ratio compares calls that met the same
moments of the machine.

    uv run python -m bench.inbox [--total 1000000] [--big 100000] [--depth 50000] [--runs 300]
"""

import argparse
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from app.db import new_ids
from app.main import create_app
from app.services import tenants, users
from app.services.pagination import encode_cursor
from bench.common import asyncpg_dsn, bench_settings, report, run, scratch_database, summary

CATEGORIES = ("call.daily_summary", "billing.invoice_ready", "agent.published")
TENANTS = 4
INBOX_OF_OTHERS = 100  # rows per other user: many users, each with an ordinary inbox
SMALL_UNREAD = 10
PAGE = 50

PAGE_QUERY = """query Page($after: String) {
  notifications(first: 50, after: $after) {
    totalCount unreadCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id category title body link data isRead readAt createdAt } }
  }
}"""
RAW_FIRST = (
    "SELECT id, category, title, body, link, data, read_at, created_at FROM notifications "
    "WHERE recipient_id = $1 AND deleted_at IS NULL "
    "ORDER BY created_at DESC, id DESC LIMIT $2"
)
RAW_AFTER = (
    "SELECT id, category, title, body, link, data, read_at, created_at FROM notifications "
    "WHERE recipient_id = $1 AND deleted_at IS NULL AND (created_at, id) < ($2, $3) "
    "ORDER BY created_at DESC, id DESC LIMIT $4"
)
# The badges as count(*) would give them (every unread one in this table is also unseen).
RAW_COUNT = {
    "unread": "SELECT count(*) FROM notifications "
    "WHERE recipient_id = $1 AND read_at IS NULL AND deleted_at IS NULL",
    "unseen": "SELECT count(*) FROM notifications "
    "WHERE recipient_id = $1 AND seen_at IS NULL AND deleted_at IS NULL",
}
Call = Callable[[], Awaitable[None]]
NOTIFICATION_COLUMNS = [
    "id",
    "tenant_id",
    "recipient_id",
    "category",
    "title",
    "read_at",
    "seen_at",
]


class Table:
    """Who owns each row of the generated table, and the counters that follow from it."""

    def __init__(self, tenant_ids: list[UUID], big: UUID, small: UUID, total: int, n_big: int):
        if not 0 < n_big <= total - SMALL_UNREAD:
            raise ValueError("--big must leave room for the other users' rows")
        self.tenant_of = {big: tenant_ids[0], small: tenant_ids[0]}
        self.big, self.small = big, small
        self.total, self.n_big = total, n_big
        n_others = max(1, (total - n_big - SMALL_UNREAD) // INBOX_OF_OTHERS)
        self.others = new_ids(n_others)
        for i, user_id in enumerate(self.others):
            self.tenant_of[user_id] = tenant_ids[i % len(tenant_ids)]
        self.counters: dict[tuple[UUID, str], list[int]] = defaultdict(lambda: [0, 0, 0])

    def user_rows(self) -> list[tuple[Any, ...]]:
        now = datetime.now(UTC)
        return [
            (user_id, self.tenant_of[user_id], f"other-{i}", "MEMBER", now, now)
            for i, user_id in enumerate(self.others)
        ]

    def notification_rows(self) -> Iterator[tuple[Any, ...]]:
        """Oldest first, one second apart: the big user's rows evenly through the table, the
        small user's last, the others' round robin. Counters are tallied on the way."""
        start = datetime.now(UTC) - timedelta(seconds=self.total + 60)
        stride = max(1, (self.total - SMALL_UNREAD) // self.n_big)
        ids = iter(new_ids(self.total))
        big_left, other = self.n_big, 0
        for i in range(self.total):
            created_at = start + timedelta(seconds=i)
            category = CATEGORIES[i % len(CATEGORIES)]
            read_at = None
            if i >= self.total - SMALL_UNREAD:
                user_id = self.small
            elif big_left and i % stride == 0:
                user_id, big_left = self.big, big_left - 1
            else:
                user_id = self.others[other % len(self.others)]
                other += 1
                if other % 2:
                    read_at = created_at + timedelta(minutes=1)
            counter = self.counters[(user_id, category)]
            counter[0] += 1
            counter[1] += read_at is None
            counter[2] += read_at is None  # read implies seen; none here is seen unread
            tenant_id = self.tenant_of[user_id]
            yield (next(ids), tenant_id, user_id, category, f"n{i}", read_at, read_at, created_at)

    def counter_rows(self) -> list[tuple[Any, ...]]:
        keys = list(self.counters)
        return [
            (counter_id, user_id, category, *self.counters[(user_id, category)])
            for counter_id, (user_id, category) in zip(new_ids(len(keys)), keys, strict=True)
        ]


async def load(raw: asyncpg.Connection, table: Table) -> None:
    await raw.copy_records_to_table(
        "users",
        records=table.user_rows(),
        columns=["id", "tenant_id", "external_id", "role", "created_at", "updated_at"],
    )
    await raw.copy_records_to_table(
        "notifications",
        records=table.notification_rows(),
        columns=[*NOTIFICATION_COLUMNS, "created_at"],
    )
    await raw.copy_records_to_table(
        "inbox_counters",
        records=table.counter_rows(),
        columns=["id", "user_id", "category", "total", "unread", "unseen"],
    )
    # Steady state: statistics, and hint bits and the visibility map set, as autovacuum
    # would leave them (and does not start while the measurements run).
    for name in ("users", "notifications", "inbox_counters"):
        await raw.execute(f"VACUUM (ANALYZE) {name}")


async def alternating(calls: dict[str, Call], runs: int) -> dict[str, list[float]]:
    """Latencies in milliseconds, taking turns run by run after a short warm-up: the ratios
    compare calls that met the same moments of a busy machine."""
    for _ in range(min(20, runs)):
        for call in calls.values():
            await call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            start = time.perf_counter()
            await call()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


async def measure(
    url: str, *, total: int, big: int, depth: int, runs: int, gc_tuning: bool = True
) -> dict[str, Any]:
    """Load the table into the migrated database at `url` and time both sides. A test process
    passes gc_tuning=False (the app would freeze the test's heap)."""
    if not 0 < depth <= big - PAGE:
        raise ValueError("--depth must leave a full page in the big inbox")
    settings = bench_settings(url, gc_tuning=gc_tuning)
    app = create_app(settings)
    box = settings.secret_box
    async with app.router.lifespan_context(app):
        tenant_ids = [
            (await tenants.create_tenant(name=f"bench-{i}", box=box)).record.id
            for i in range(TENANTS)
        ]
        viewers = {}
        for label in ("big", "small"):
            external_id = f"inbox-{label}"
            user = await users.upsert_user(
                tenant_id=tenant_ids[0], external_id=external_id, fields=users.UserFields()
            )
            issued = await users.issue_user_token(
                tenant_id=tenant_ids[0],
                external_id=external_id,
                ttl_seconds=3600,
                max_ttl_seconds=3600,
                box=box,
            )
            viewers[label] = (user.id, issued.token)
        table = Table(tenant_ids, viewers["big"][0], viewers["small"][0], total, big)
        raw = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await load(raw, table)
            rows = await raw.fetchval(
                "SELECT count(*) FROM notifications WHERE tenant_id = ANY($1)", tenant_ids
            )
            big_id, big_token = viewers["big"]
            # The row before the deep page: its cursor is what a client walking there holds.
            before = await raw.fetchrow(
                "SELECT created_at, id FROM notifications WHERE recipient_id = $1 "
                "ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
                big_id,
                depth - 1,
            )
            expected_first_deep = await raw.fetchval(
                "SELECT id FROM notifications WHERE recipient_id = $1 "
                "ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
                big_id,
                depth,
            )
            cursor = encode_cursor(before["created_at"], before["id"])
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

                async def graphql(token: str, query: str, variables: dict[str, Any]) -> Any:
                    response = await client.post(
                        "/graphql",
                        json={"query": query, "variables": variables},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    body = response.json()
                    assert "errors" not in body, body
                    return body["data"]

                async def first_page() -> None:
                    page = (await graphql(big_token, PAGE_QUERY, {}))["notifications"]
                    assert len(page["edges"]) == PAGE and page["totalCount"] == big

                async def deep_page() -> None:
                    page = (await graphql(big_token, PAGE_QUERY, {"after": cursor}))[
                        "notifications"
                    ]
                    assert page["edges"][0]["node"]["id"] == str(expected_first_deep)
                    assert len(page["edges"]) == PAGE

                async def raw_first() -> None:
                    assert len(await raw.fetch(RAW_FIRST, big_id, PAGE + 1)) == PAGE + 1

                async def raw_deep() -> None:
                    found = await raw.fetch(
                        RAW_AFTER, big_id, before["created_at"], before["id"], PAGE + 1
                    )
                    assert found[0]["id"] == expected_first_deep

                def badge(name: str, label: str, expected: int) -> tuple[Call, Call]:
                    async def system() -> None:
                        data = await graphql(viewers[label][1], f"{{ {name}Count }}", {})
                        assert data[f"{name}Count"] == expected

                    async def baseline() -> None:
                        assert await raw.fetchval(RAW_COUNT[name], viewers[label][0]) == expected

                    return system, baseline

                calls: dict[str, Call] = {
                    "system_first_page": first_page,
                    "system_deep_page": deep_page,
                    "raw_first_page": raw_first,
                    "raw_deep_page": raw_deep,
                }
                for name in RAW_COUNT:
                    for label, expected in (("big", big), ("small", SMALL_UNREAD)):
                        system, baseline = badge(name, label, expected)
                        calls[f"system_{name}_{label}"] = system
                        calls[f"raw_{name}_count_{label}"] = baseline
                samples = await alternating(calls, runs)
                timings = {name: summary(taken) for name, taken in samples.items()}
        finally:
            await raw.close()

    def ratio(over: str, under: str) -> float:
        return round(timings[over]["p50_ms"] / timings[under]["p50_ms"], 2)

    return {
        "rows": rows,
        "big_inbox": big,
        "small_unread": SMALL_UNREAD,
        "depth": depth,
        "runs": runs,
        **timings,
        "system_deep_over_first_p50": ratio("system_deep_page", "system_first_page"),
        "raw_deep_over_first_p50": ratio("raw_deep_page", "raw_first_page"),
        **{
            f"system_{name}_big_over_small_p50": ratio(f"system_{name}_big", f"system_{name}_small")
            for name in RAW_COUNT
        },
        **{
            f"raw_{name}_count_big_over_small_p50": ratio(
                f"raw_{name}_count_big", f"raw_{name}_count_small"
            )
            for name in RAW_COUNT
        },
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    async with scratch_database() as url:
        figures = await measure(
            url, total=args.total, big=args.big, depth=args.depth, runs=args.runs
        )
    report("inbox", figures)
    print(
        f"page {args.depth:,} deep vs first: system x{figures['system_deep_over_first_p50']} "
        f"(target <= 1.5; raw keyset SQL x{figures['raw_deep_over_first_p50']})"
    )
    for name in RAW_COUNT:
        print(
            f"{name}Count, {args.big:,} {name} vs {SMALL_UNREAD}: "
            f"system x{figures[f'system_{name}_big_over_small_p50']} "
            f"(raw count(*) x{figures[f'raw_{name}_count_big_over_small_p50']})"
        )


if __name__ == "__main__":
    run(main)
