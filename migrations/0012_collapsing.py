from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('belfry', '0011_snooze_and_expiry')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Notification',
            name='collapse_key',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Notification',
            name='occurrences',
            field=fields.IntField(default=1, db_default=1),
        ),
        # Where a publish with a collapse key looks for the notification it replaces.
        ops.RunSQL(
            "CREATE INDEX ix_notif_collapse ON notifications (recipient_id, collapse_key) "
            "WHERE collapse_key IS NOT NULL",
            reverse_sql="DROP INDEX ix_notif_collapse",
        ),
    ]
