from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('belfry', '0010_priority_actions_tags')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Notification',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='snoozed_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # What the inbox clock looks for, and only that: most rows have neither.
        ops.RunSQL(
            "CREATE INDEX ix_notif_snoozed ON notifications (snoozed_until) "
            "WHERE snoozed_until IS NOT NULL",
            reverse_sql="DROP INDEX ix_notif_snoozed",
        ),
        ops.RunSQL(
            "CREATE INDEX ix_notif_expiring ON notifications (expires_at) "
            "WHERE expires_at IS NOT NULL AND deleted_at IS NULL",
            reverse_sql="DROP INDEX ix_notif_expiring",
        ),
    ]
