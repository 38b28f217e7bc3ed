"""The few statements Tortoise's query builder cannot express, written once for both dialects."""

from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection


def connection() -> BaseDBAsyncClient:
    """The current connection: the open transaction's, if there is one."""
    return get_connection("default")


def dialect() -> str:
    return str(connection().capabilities.dialect)


def placeholders(conn: BaseDBAsyncClient, count: int, start: int = 0) -> list[str]:
    if conn.capabilities.dialect == "postgres":
        return [f"${i}" for i in range(start + 1, start + count + 1)]
    return ["?"] * count


async def execute(sql: str, values: Sequence[Any]) -> list[dict[str, Any]]:
    return await connection().execute_query_dict(sql, list(values))
