from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

# The inbox's filter by team. Partial, as in 0002: the notifications of direct recipients,
# most of them, cost nothing here.
TEAM_INDEX = (
    "CREATE INDEX ix_notif_team ON notifications (recipient_id, team_key, created_at, id) "
    "WHERE team_key IS NOT NULL"
)


class Migration(migrations.Migration):
    dependencies = [('belfry', '0013_schedules_and_quiet_hours')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Team',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='teams', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('name', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'teams', 'app': 'belfry', 'unique_together': (('tenant', 'key'),), 'pk_attr': 'id', 'table_description': "A named group of the tenant's users, which a publish or a rule names instead of"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TeamMember',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('belfry.Team', source_field='team_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('belfry.User', source_field='user_id', db_constraint=True, to_field='id', related_name='team_memberships', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'team_members', 'app': 'belfry', 'unique_together': (('team', 'user'),), 'indexes': [Index(fields=['team_id', 'created_at', 'id'], name='ix_member_order'), Index(fields=['user_id'], name='ix_member_user')], 'pk_attr': 'id', 'table_description': 'One user in one team. A user may be in many teams.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Notification',
            name='team_key',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Notification',
            name='team_name',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='ScheduledNotification',
            name='team_key',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='ScheduledNotification',
            name='team_name',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.RunSQL(TEAM_INDEX, reverse_sql="DROP INDEX ix_notif_team"),
    ]
