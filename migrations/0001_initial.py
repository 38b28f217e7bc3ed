from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.models.channels import Channel
from app.models.deliveries import DeliveryStatus
from app.models.rules import Cadence, ConditionLogic
from app.models.users import Role
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Tenant',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('signing_secret', fields.CharField(max_length=128)),
                ('retention_days', fields.IntField(default=90)),
                ('purge_deleted_after_days', fields.IntField(default=90)),
                ('allow_free_categories', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tenants', 'app': 'belfry', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(default='', max_length=200)),
                ('prefix', fields.CharField(max_length=32)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_keys', 'app': 'belfry', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChannelConfig',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='channel_configs', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='IN_APP: IN_APP\nEMAIL: EMAIL\nSMS: SMS\nWEBHOOK: WEBHOOK\nSLACK: SLACK\nTELEGRAM: TELEGRAM', enum_type=Channel, max_length=16)),
                ('enabled', fields.BooleanField(default=False)),
                ('config', fields.TextField(default='{}', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'channel_configs', 'app': 'belfry', 'unique_together': (('tenant', 'channel'),), 'pk_attr': 'id', 'table_description': "A tenant's settings for one channel. Secret values are stored encrypted (app/crypto.py)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EventCategory',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='event_categories', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('group', fields.CharField(max_length=100)),
                ('description', fields.CharField(default='', max_length=500)),
                ('default_channels', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('critical', fields.BooleanField(default=False)),
                ('email_rate_limit_seconds', fields.IntField(null=True)),
            ],
            options={'table': 'event_categories', 'app': 'belfry', 'unique_together': (('tenant', 'key'),), 'pk_attr': 'id', 'table_description': 'A kind of notification a tenant sends, e.g. `billing.low_balance`.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Rule',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='rules', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('enabled', fields.BooleanField(default=True)),
                ('events', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('condition_logic', fields.CharEnumField(default=ConditionLogic.AND, description='AND: AND\nOR: OR', enum_type=ConditionLogic, max_length=8)),
                ('conditions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('cadence', fields.CharEnumField(default=Cadence.INSTANT, description='INSTANT: INSTANT\nHOURLY: HOURLY\nDAILY: DAILY', enum_type=Cadence, max_length=8)),
                ('actions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('last_triggered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rules', 'app': 'belfry', 'pk_attr': 'id', 'table_description': 'When an event of these types matches these conditions, notify these recipients.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TenantPreference',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('category', fields.CharField(max_length=100)),
                ('in_app', fields.BooleanField(null=True)),
                ('email', fields.BooleanField(null=True)),
                ('sms', fields.BooleanField(null=True)),
                ('webhook', fields.BooleanField(null=True)),
                ('slack', fields.BooleanField(null=True)),
                ('telegram', fields.BooleanField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='preferences', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'tenant_preferences', 'app': 'belfry', 'unique_together': (('tenant', 'category'),), 'pk_attr': 'id'},
            bases=['ChannelSwitches'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.CASCADE)),
                ('external_id', fields.CharField(max_length=200)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('phone', fields.CharField(null=True, max_length=32)),
                ('name', fields.CharField(null=True, max_length=200)),
                ('role', fields.CharEnumField(default=Role.MEMBER, description='OWNER: OWNER\nADMIN: ADMIN\nMEMBER: MEMBER', enum_type=Role, max_length=16)),
                ('locale', fields.CharField(null=True, max_length=35)),
                ('timezone', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'users', 'app': 'belfry', 'unique_together': (('tenant', 'external_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboxCounter',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('belfry.User', source_field='user_id', db_constraint=True, to_field='id', related_name='counters', on_delete=OnDelete.CASCADE)),
                ('category', fields.CharField(max_length=100)),
                ('total', fields.IntField(default=0)),
                ('unread', fields.IntField(default=0)),
            ],
            options={'table': 'inbox_counters', 'app': 'belfry', 'unique_together': (('user', 'category'),), 'pk_attr': 'id', 'table_description': 'Live totals per (user, category), kept in the same transaction as every inbox change,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('belfry.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('category', fields.CharField(max_length=100)),
                ('title', fields.CharField(max_length=500)),
                ('body', fields.TextField(null=True, unique=False)),
                ('link', fields.CharField(null=True, max_length=2048)),
                ('data', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('idempotency_key', fields.CharField(null=True, max_length=200)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notifications', 'app': 'belfry', 'unique_together': (('recipient', 'idempotency_key'),), 'indexes': [Index(fields=['recipient_id', 'created_at', 'id'], name='ix_notif_inbox'), Index(fields=['recipient_id', 'read_at', 'created_at', 'id'], name='ix_notif_unread'), Index(fields=['recipient_id', 'category', 'created_at', 'id'], name='ix_notif_cat')], 'pk_attr': 'id', 'table_description': "One notification in one user's inbox. Soft-deleted rows keep `deleted_at`."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('notification', fields.ForeignKeyField('belfry.Notification', source_field='notification_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('belfry.User', source_field='recipient_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='IN_APP: IN_APP\nEMAIL: EMAIL\nSMS: SMS\nWEBHOOK: WEBHOOK\nSLACK: SLACK\nTELEGRAM: TELEGRAM', enum_type=Channel, max_length=16)),
                ('category', fields.CharField(max_length=100)),
                ('status', fields.CharEnumField(default=DeliveryStatus.QUEUED, description='QUEUED: QUEUED\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nSUPPRESSED: SUPPRESSED', enum_type=DeliveryStatus, max_length=16)),
                ('attempt_count', fields.IntField(default=0)),
                ('last_error', fields.CharField(null=True, max_length=1000)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_token', fields.CharField(null=True, max_length=32)),
                ('job_id', fields.CharField(null=True, max_length=64)),
                ('rule_id', fields.UUIDField(null=True)),
                ('target', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'deliveries', 'app': 'belfry', 'indexes': [Index(fields=['tenant_id', 'created_at', 'id'], name='ix_delivery_log'), Index(fields=['notification_id'], name='ix_delivery_notification')], 'pk_attr': 'id', 'table_description': 'One notification to one recipient over one channel: the queue and the log at once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserPreference',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('category', fields.CharField(max_length=100)),
                ('in_app', fields.BooleanField(null=True)),
                ('email', fields.BooleanField(null=True)),
                ('sms', fields.BooleanField(null=True)),
                ('webhook', fields.BooleanField(null=True)),
                ('slack', fields.BooleanField(null=True)),
                ('telegram', fields.BooleanField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('user', fields.ForeignKeyField('belfry.User', source_field='user_id', db_constraint=True, to_field='id', related_name='preferences', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'user_preferences', 'app': 'belfry', 'unique_together': (('user', 'category'),), 'pk_attr': 'id'},
            bases=['ChannelSwitches'],
        ),
    ]
