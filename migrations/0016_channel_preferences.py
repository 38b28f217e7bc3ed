from typing import Any
from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from app.models.channels import Channel

# Preferences move from a column per channel to a row per (category, channel), so a channel
# added later needs no column. Every switch that was set (true or false) becomes a row; one
# left null stays absent, which still means "not set at this level".
SWITCHES = {
    "in_app": "IN_APP",
    "email": "EMAIL",
    "sms": "SMS",
    "webhook": "WEBHOOK",
    "slack": "SLACK",
    "telegram": "TELEGRAM",
}
MOVES = {  # old table: (new table, owner column)
    "tenant_preferences": ("tenant_channel_preferences", "tenant_id"),
    "user_preferences": ("user_channel_preferences", "user_id"),
}
NEW_ID = {
    "postgres": "gen_random_uuid()",
    # The text form Tortoise stores on SQLite, random as a version 4 UUID is.
    "sqlite": "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
    "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
    "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))",
}


async def carry_switches(apps: object, schema_editor: Any) -> None:
    client = schema_editor.client
    new_id = NEW_ID[client.capabilities.dialect]
    for old, (new, owner) in MOVES.items():
        for column, channel in SWITCHES.items():
            await client.execute_script(
                f"INSERT INTO {new} (id, {owner}, category, channel, enabled, updated_at) "
                f"SELECT {new_id}, {owner}, category, '{channel}', {column}, updated_at "
                f"FROM {old} WHERE {column} IS NOT NULL"
            )


async def carry_back(apps: object, schema_editor: Any) -> None:
    """Going back, each (owner, category) gets its row of switches again; only the channels
    that had a column come back."""
    client = schema_editor.client
    new_id = NEW_ID[client.capabilities.dialect]
    # MAX over 1/0 for one channel's only row: its value, or NULL where it has none.
    switches = ", ".join(
        f"MAX(CASE WHEN channel = '{channel}' THEN CASE WHEN enabled THEN 1 ELSE 0 END END) = 1"
        for channel in SWITCHES.values()
    )
    for old, (new, owner) in MOVES.items():
        await client.execute_script(
            f"INSERT INTO {old} (id, {owner}, category, {', '.join(SWITCHES)}, updated_at) "
            f"SELECT {new_id}, {owner}, category, {switches}, MAX(updated_at) FROM {new} "
            f"WHERE channel IN ({', '.join(repr(c) for c in SWITCHES.values())}) "
            f"GROUP BY {owner}, category"
        )


class DescriptionOnly(ops.AlterField):
    """A field whose description alone changed: nothing to do in the database, where Tortoise
    would rebuild the whole table on SQLite and lose its indexes (as in 0013)."""

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('belfry', '0015_signing_secret_rotation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TenantChannelPreference',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('category', fields.CharField(max_length=100)),
                ('channel', fields.CharEnumField(description='A Channel name', enum_type=Channel, max_length=16)),
                ('enabled', fields.BooleanField()),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='channel_preferences', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'tenant_channel_preferences', 'app': 'belfry', 'unique_together': (('tenant', 'category', 'channel'),), 'pk_attr': 'id'},
            bases=['ChannelPreference'],
        ),
        ops.CreateModel(
            name='UserChannelPreference',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('category', fields.CharField(max_length=100)),
                ('channel', fields.CharEnumField(description='A Channel name', enum_type=Channel, max_length=16)),
                ('enabled', fields.BooleanField()),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('user', fields.ForeignKeyField('belfry.User', source_field='user_id', db_constraint=True, to_field='id', related_name='channel_preferences', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'user_channel_preferences', 'app': 'belfry', 'unique_together': (('user', 'category', 'channel'),), 'pk_attr': 'id'},
            bases=['ChannelPreference'],
        ),
        DescriptionOnly(
            model_name='ChannelConfig',
            name='channel',
            field=fields.CharEnumField(description='A Channel name', enum_type=Channel, max_length=16),
        ),
        DescriptionOnly(
            model_name='Delivery',
            name='channel',
            field=fields.CharEnumField(description='A Channel name', enum_type=Channel, max_length=16),
        ),
        ops.RunPython(carry_switches, carry_back),
        ops.DeleteModel(name='TenantPreference'),
        ops.DeleteModel(name='UserPreference'),
    ]
