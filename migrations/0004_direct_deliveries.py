from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Deliveries to a rule's raw address keep it in a column of their own (the email rate limit
# looks it up, with the partial index below), and the message they send as a snapshot.
# Rows written before kept the address inside that JSON: it moves to the column.
MOVE_ADDRESS = {
    "postgres": "UPDATE deliveries SET address = COALESCE(snapshot->>'email', snapshot->>'phone') "
    "WHERE snapshot IS NOT NULL",
    "sqlite": "UPDATE deliveries SET address = COALESCE(json_extract(snapshot, '$.email'), "
    "json_extract(snapshot, '$.phone')) WHERE snapshot IS NOT NULL",
}


async def move_address(apps: object, schema_editor: Any) -> None:
    client = schema_editor.client
    await client.execute_script(MOVE_ADDRESS[client.capabilities.dialect])


async def nothing(apps: object, schema_editor: Any) -> None:
    """The address stays in its column; the snapshot still holds it too."""

class Migration(migrations.Migration):
    dependencies = [('belfry', '0003_write_path')]

    initial = False

    operations = [
        ops.RenameField(
            model_name='Delivery',
            old_name='target',
            new_name='snapshot',
        ),
        ops.AddField(
            model_name='Delivery',
            name='address',
            field=fields.CharField(null=True, max_length=320),
        ),
        ops.AddField(
            model_name='Delivery',
            name='forced',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Event',
            name='direct_deliveries',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.RunPython(move_address, nothing),
        ops.RunSQL(
            "CREATE INDEX ix_delivery_rate_address ON deliveries (address, category, created_at) "
            "WHERE address IS NOT NULL AND channel = 'EMAIL'",
            reverse_sql="DROP INDEX ix_delivery_rate_address",
        ),
    ]
