from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('belfry', '0007_digest_failures')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Delivery',
            name='request_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Delivery',
            name='trace_parent',
            field=fields.CharField(null=True, max_length=128),
        ),
    ]
