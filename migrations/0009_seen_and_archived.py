from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

# Read implies seen: notifications read before this migration were seen then, and every unread
# one in a badge is unseen.


class Migration(migrations.Migration):
    dependencies = [('belfry', '0008_delivery_origin')]

    initial = False

    operations = [
        ops.AddField(
            model_name='InboxCounter',
            name='archived',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='InboxCounter',
            name='archived_unread',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='InboxCounter',
            name='unseen',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AlterModelOptions(
            name='Notification',
            options={'table': 'notifications', 'app': 'belfry', 'unique_together': (('recipient', 'idempotency_key'),), 'indexes': [Index(fields=['recipient_id', 'created_at', 'id'], name='ix_notif_inbox'), Index(fields=['recipient_id', 'read_at', 'created_at', 'id'], name='ix_notif_unread'), Index(fields=['recipient_id', 'category', 'created_at', 'id'], name='ix_notif_cat')], 'pk_attr': 'id', 'table_description': "One notification in one user's inbox."},
        ),
        ops.AddField(
            model_name='Notification',
            name='archived_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='seen_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            "UPDATE notifications SET seen_at = read_at WHERE read_at IS NOT NULL",
            reverse_sql="SELECT 1",
        ),
        ops.RunSQL("UPDATE inbox_counters SET unseen = unread", reverse_sql="SELECT 1"),
    ]
