from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.models.notifications import Priority
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('belfry', '0009_seen_and_archived')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Notification',
            name='actions',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Notification',
            name='interacted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='priority',
            field=fields.IntEnumField(default=Priority.NORMAL, description='LOW: 0\nNORMAL: 1\nHIGH: 2\nURGENT: 3', db_default=Priority.NORMAL, enum_type=Priority, generated=False),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['recipient_id', 'priority', 'created_at', 'id'], name='ix_notif_priority'),
        ),
    ]
