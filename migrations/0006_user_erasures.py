from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('belfry', '0005_reference_checks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UserErasure',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('belfry.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='user_erasures', on_delete=OnDelete.CASCADE)),
                ('subject_hash', fields.CharField(max_length=64)),
                ('erased_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'user_erasures', 'app': 'belfry', 'unique_together': (('tenant', 'subject_hash'),), 'pk_attr': 'id', 'table_description': "A user erased at the tenant's request, known only by the SHA-256 of the external id."},
            bases=['Model'],
        ),
    ]
