from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

# Cheaper writes for a publish, on PostgreSQL only (hand-written: nothing in the models
# changes, and SQLite needs neither step):
# - notifications and the deliveries log stop checking their tenant and recipient (see the
#   models). SQLite keeps those checks: dropping one there means rebuilding the table, and
#   its checks cost little;
# - every publish updates its recipients' counters in place: free room on each page lets
#   PostgreSQL do that without touching the counters' indexes (a HOT update).


def on_postgres(sql: str) -> Callable[[Any, Any], Awaitable[None]]:
    async def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.client.capabilities.dialect == "postgres":
            await schema_editor.client.execute_script(sql)

    return run


CHECKS = {  # (table, column): referenced table
    ("notifications", "tenant_id"): "tenants",
    ("notifications", "recipient_id"): "users",
    ("deliveries", "tenant_id"): "tenants",
    ("deliveries", "recipient_id"): "users",
}
DROP_REFERENCE_CHECKS = "; ".join(
    f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_fkey"
    for table, column in CHECKS
)
ADD_REFERENCE_CHECKS = "; ".join(
    f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey FOREIGN KEY ({column}) "
    f"REFERENCES {target} (id) ON DELETE CASCADE"
    for (table, column), target in CHECKS.items()
)


class Migration(migrations.Migration):
    dependencies = [('belfry', '0002_partial_indexes')]

    initial = False

    operations = [
        ops.RunPython(on_postgres(DROP_REFERENCE_CHECKS), on_postgres(ADD_REFERENCE_CHECKS)),
        ops.RunPython(
            on_postgres("ALTER TABLE inbox_counters SET (fillfactor = 50)"),
            on_postgres("ALTER TABLE inbox_counters RESET (fillfactor)"),
        ),
    ]
