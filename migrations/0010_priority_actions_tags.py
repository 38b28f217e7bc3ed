from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.models.notifications import Priority
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('belfry', '0009_seen_and_archived')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NotificationTag',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('notification', fields.ForeignKeyField('belfry.Notification', source_field='notification_id', db_constraint=True, to_field='id', related_name='tag_rows', on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('belfry.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name='notification_tags', on_delete=OnDelete.CASCADE)),
                ('tag', fields.CharField(max_length=50)),
            ],
            options={'table': 'notification_tags', 'app': 'belfry', 'indexes': [Index(fields=['recipient_id', 'tag'], name='ix_tag_recipient')], 'pk_attr': 'id', 'table_description': 'One tag of one notification.'},
            bases=['Model'],
        ),
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
        ops.AddField(
            model_name='Notification',
            name='tags',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['recipient_id', 'priority', 'created_at', 'id'], name='ix_notif_priority'),
        ),
    ]
