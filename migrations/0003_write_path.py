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


async def drop_reference_checks(apps: Any, schema_editor: Any) -> None:
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(
            "ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_tenant_id_fkey, "
            "DROP CONSTRAINT IF EXISTS deliveries_recipient_id_fkey"
        )


async def add_reference_checks(apps: Any, schema_editor: Any) -> None:
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(
            "ALTER TABLE deliveries ADD CONSTRAINT deliveries_tenant_id_fkey FOREIGN KEY "
            "(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, ADD CONSTRAINT "
            "deliveries_recipient_id_fkey FOREIGN KEY (recipient_id) REFERENCES users (id) "
            "ON DELETE CASCADE"
        )


async def leave_room_for_counter_updates(apps: Any, schema_editor: Any) -> None:
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(
            "ALTER TABLE inbox_counters SET (fillfactor = 50)"
        )


async def fill_counter_pages(apps: Any, schema_editor: Any) -> None:
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script("ALTER TABLE inbox_counters RESET (fillfactor)")


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
        ops.RunPython(drop_reference_checks, add_reference_checks),
        ops.RunPython(leave_room_for_counter_updates, fill_counter_pages),
    ]
