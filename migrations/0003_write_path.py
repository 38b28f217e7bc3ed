from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

# Cheaper writes for a publish on PostgreSQL (SQLite needs neither change):
# - the deliveries log stops checking its tenant and recipient (see the Delivery model).
#   Tortoise's AlterField leaves existing constraints in place, so they are dropped here.
#   SQLite keeps them: it cannot drop a constraint without rebuilding the table, and its
#   checks cost little;
# - every publish updates its recipients' counters in place: free room on each page lets
#   PostgreSQL do that without touching the counters' indexes (a HOT update).


def on_postgres(sql: str) -> Callable[[Any, Any], Awaitable[None]]:
    async def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.client.capabilities.dialect == "postgres":
            await schema_editor.client.execute_script(sql)

    return run


DROP_REFERENCE_CHECKS = (
    "ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_tenant_id_fkey, "
    "DROP CONSTRAINT IF EXISTS deliveries_recipient_id_fkey"
)
ADD_REFERENCE_CHECKS = (
    "ALTER TABLE deliveries ADD CONSTRAINT deliveries_tenant_id_fkey FOREIGN KEY (tenant_id) "
    "REFERENCES tenants (id) ON DELETE CASCADE, ADD CONSTRAINT deliveries_recipient_id_fkey "
    "FOREIGN KEY (recipient_id) REFERENCES users (id) ON DELETE CASCADE"
)


class Migration(migrations.Migration):
    dependencies = [('belfry', '0002_partial_indexes')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Delivery',
            name='recipient',
            field=fields.ForeignKeyField('belfry.User', source_field='recipient_id', null=True, db_constraint=False, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Delivery',
            name='tenant',
            field=fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=False, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE),
        ),
        ops.RunPython(on_postgres(DROP_REFERENCE_CHECKS), on_postgres(ADD_REFERENCE_CHECKS)),
        ops.RunPython(
            on_postgres("ALTER TABLE inbox_counters SET (fillfactor = 50)"),
            on_postgres("ALTER TABLE inbox_counters RESET (fillfactor)"),
        ),
    ]
