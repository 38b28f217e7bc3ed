"""Unread badge cost for a user with 10 unread vs one with 100,000, on PostgreSQL.

System: the `unreadCount` GraphQL query through the whole ASGI app (auth included).
Raw baseline, same run: a plain asyncpg `count(*)` over the user's unread rows, which is what
answering without Belfry's counters would cost.

    uv run python -m bench.unread_count [--big 100000] [--runs 300]
"""

import argparse
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx

from app.main import create_app
from app.models import Notification
from app.services import counters, tenants, users
from app.settings import Settings
from bench.common import asyncpg_dsn, report, run, scratch_database, summary, timed

RAW_COUNT = (
    "SELECT count(*) FROM notifications "
    "WHERE recipient_id = $1 AND read_at IS NULL AND deleted_at IS NULL"
)


async def give_unread(tenant_id: UUID, user_id: UUID, count: int) -> None:
    """Bulk setup: the rows and counter that `count` publishes would leave behind."""
    start = datetime.now(UTC) - timedelta(days=1)
    rows = [
        Notification(
            id=uuid4(),
            tenant_id=tenant_id,
            recipient_id=user_id,
            category="call.daily_summary",
            title=f"n{i}",
            created_at=start + timedelta(milliseconds=i),
        )
        for i in range(count)
    ]
    await Notification.bulk_create(rows, batch_size=2000)
    await counters.add({(user_id, "call.daily_summary"): (count, count)})


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    async with scratch_database() as url:
        app = create_app(Settings(database_url=url))
        async with app.router.lifespan_context(app):
            tenant = await tenants.create_tenant(name="bench")
            tokens, user_ids = {}, {}
            for label, count in (("small", args.small), ("big", args.big)):
                user = await users.upsert_user(
                    tenant_id=tenant.id, external_id=label, fields=users.UserFields()
                )
                await give_unread(tenant.id, user.id, count)
                issued = await users.issue_user_token(
                    tenant_id=tenant.id, external_id=label, ttl_seconds=3600, max_ttl_seconds=3600
                )
                tokens[label], user_ids[label] = issued.token, user.id
            raw = await asyncpg.connect(asyncpg_dsn(url))
            await raw.execute("ANALYZE notifications")
            transport = httpx.ASGITransport(app=app)
            timings: dict[str, dict[str, float]] = {}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for label in ("small", "big"):

                    async def system(label: str = label) -> None:
                        response = await client.post(
                            "/graphql",
                            json={"query": "{ unreadCount }"},
                            headers={"authorization": f"Bearer {tokens[label]}"},
                        )
                        assert response.json()["data"]["unreadCount"] == vars(args)[label]

                    async def baseline(label: str = label) -> None:
                        await raw.fetchval(RAW_COUNT, user_ids[label])

                    timings[f"system_{label}"] = summary(await timed(system, args.runs))
                    timings[f"raw_count_{label}"] = summary(await timed(baseline, args.runs))
            await raw.close()

    def ratio(kind: str) -> float:
        big, small = timings[f"{kind}_big"], timings[f"{kind}_small"]
        return round(big["p50_ms"] / small["p50_ms"], 2)

    report(
        "unread_count",
        {
            "small_unread": args.small,
            "big_unread": args.big,
            **timings,
            "system_big_over_small_p50": ratio("system"),
            "raw_count_big_over_small_p50": ratio("raw_count"),
        },
    )
    print(
        f"unreadCount, {args.big:,} unread vs {args.small}: system x{ratio('system')} "
        f"(raw count(*) x{ratio('raw_count')})"
    )


if __name__ == "__main__":
    run(main)
