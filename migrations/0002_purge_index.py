from tortoise import migrations
from tortoise.migrations import operations as ops

# Partial: only soft-deleted rows are indexed, so publishing writes nothing to it. Tortoise's
# Index cannot express a WHERE clause, hence plain SQL (valid on PostgreSQL and SQLite).


class Migration(migrations.Migration):
    dependencies = [('belfry', '0001_initial')]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE INDEX ix_notif_purge ON notifications (tenant_id, deleted_at) "
            "WHERE deleted_at IS NOT NULL",
            reverse_sql="DROP INDEX ix_notif_purge",
        ),
    ]
