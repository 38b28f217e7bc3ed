from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.models.deliveries import DeliveryStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class DescriptionOnly(ops.AlterField):
    """A field whose description alone changed (an enum member added): nothing to do in the
    database, where Tortoise would rebuild the whole table on SQLite and lose its indexes."""

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('belfry', '0012_collapsing')]

    initial = False

    operations = [
        ops.CreateModel(
            name='QuietHours',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('belfry.User', source_field='user_id', unique=True, db_constraint=True, to_field='id', related_name='quiet_hours', on_delete=OnDelete.CASCADE)),
                ('start', fields.CharField(max_length=5)),
                ('end', fields.CharField(max_length=5)),
                ('timezone', fields.CharField(null=True, max_length=64)),
                ('days', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('enabled', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'quiet_hours', 'app': 'belfry', 'pk_attr': 'id', 'table_description': 'When a user does not want email, SMS or chat: each day in `days` (ISO weekdays, 1 is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScheduledNotification',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('batch_id', fields.UUIDField()),
                ('position', fields.IntField()),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='scheduled_notifications', on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('belfry.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name='scheduled_notifications', on_delete=OnDelete.CASCADE)),
                ('category', fields.CharField(max_length=100)),
                ('content', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('idempotency_key', fields.CharField(null=True, max_length=200)),
                ('send_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'scheduled_notifications', 'app': 'belfry', 'unique_together': (('recipient', 'idempotency_key'),), 'indexes': [Index(fields=['send_at', 'batch_id'], name='ix_scheduled_due'), Index(fields=['tenant_id', 'send_at', 'id'], name='ix_scheduled_list')], 'pk_attr': 'id', 'table_description': 'A notification published with a sendAt still to come, for one recipient.'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='Delivery',
            name='status',
            field=fields.CharEnumField(default=DeliveryStatus.QUEUED, description='QUEUED: QUEUED\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nSUPPRESSED: SUPPRESSED\nHELD: HELD', enum_type=DeliveryStatus, max_length=16),
        ),
        # Held deliveries are claimed when their quiet hours end, by the same index.
        ops.RunSQL(
            "DROP INDEX ix_delivery_due",
            reverse_sql="CREATE INDEX ix_delivery_due ON deliveries (next_attempt_at) "
            "WHERE status IN ('QUEUED', 'SENDING')",
        ),
        ops.RunSQL(
            "CREATE INDEX ix_delivery_due ON deliveries (next_attempt_at) "
            "WHERE status IN ('QUEUED', 'HELD', 'SENDING')",
            reverse_sql="DROP INDEX ix_delivery_due",
        ),
    ]
