from tortoise import migrations
from tortoise.migrations import operations as ops

# Partial indexes: only the rows a query looks for are indexed, so the rows most writes
# produce (live notifications, in-app deliveries) cost nothing here. Tortoise's Index cannot
# express a WHERE clause, hence plain SQL (valid on PostgreSQL and SQLite).


class Migration(migrations.Migration):
    dependencies = [('belfry', '0001_initial')]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE INDEX ix_notif_purge ON notifications (tenant_id, deleted_at) "
            "WHERE deleted_at IS NOT NULL",
            reverse_sql="DROP INDEX ix_notif_purge",
        ),
        ops.RunSQL(
            "CREATE INDEX ix_delivery_due ON deliveries (next_attempt_at) "
            "WHERE status IN ('QUEUED', 'SENDING')",
            reverse_sql="DROP INDEX ix_delivery_due",
        ),
        ops.RunSQL(
            "CREATE INDEX ix_delivery_rate ON deliveries (recipient_id, category, created_at) "
            "WHERE channel = 'EMAIL'",
            reverse_sql="DROP INDEX ix_delivery_rate",
        ),
    ]
