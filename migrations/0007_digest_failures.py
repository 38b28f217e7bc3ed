from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('belfry', '0006_user_erasures')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Digest',
            name='attempts',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Digest',
            name='failed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Digest',
            name='last_error',
            field=fields.CharField(null=True, max_length=500),
        ),
    ]
