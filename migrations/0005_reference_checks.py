from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

# PostgreSQL checks the tenant and recipient of notifications and deliveries again, as the
# models declare and SQLite always did (migration 0003 had dropped those checks for insert
# speed). NOT VALID, then VALIDATE: rows already there are checked without blocking writes.

CHECKS = {  # (table, column): referenced table
    ("notifications", "tenant_id"): "tenants",
    ("notifications", "recipient_id"): "users",
    ("deliveries", "tenant_id"): "tenants",
    ("deliveries", "recipient_id"): "users",
}
ADD = "; ".join(
    f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey FOREIGN KEY ({column}) "
    f"REFERENCES {target} (id) ON DELETE CASCADE NOT VALID; "
    f"ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{column}_fkey"
    for (table, column), target in CHECKS.items()
)
DROP = "; ".join(
    f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_fkey"
    for table, column in CHECKS
)


def on_postgres(sql: str) -> Callable[[Any, Any], Awaitable[None]]:
    async def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.client.capabilities.dialect == "postgres":
            await schema_editor.client.execute_script(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [('belfry', '0004_direct_deliveries')]

    initial = False

    operations = [ops.RunPython(on_postgres(ADD), on_postgres(DROP))]
