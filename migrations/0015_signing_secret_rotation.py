from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Tenants' signing secrets are sealed with BELFRY_SECRET_KEY from now on, and can be rotated.
# Nothing is sealed here (a migration does not hold the key): rows keep their secret in clear,
# which the code still reads, until `belfry rotate-secrets` seals it. Each tenant's erasure
# key starts as its signing secret, which keyed the erasures recorded so far: those are still
# found once the signing secret is rotated.


class OnPostgres(ops.AlterField):
    """A column widened or made NOT NULL: PostgreSQL enforces both, SQLite neither, and there
    Tortoise would rebuild the tenants table, which every other table refers to."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if _is_postgres(state_editor):
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if _is_postgres(state_editor):
            await super().database_backward(app_label, old_state, new_state, state_editor)


def _is_postgres(state_editor: Any) -> bool:
    return state_editor is not None and state_editor.client.capabilities.dialect == "postgres"


class Migration(migrations.Migration):
    dependencies = [('belfry', '0014_teams')]

    initial = False

    operations = [
        # A sealed secret is about 190 characters.
        OnPostgres(
            model_name='Tenant',
            name='signing_secret',
            field=fields.CharField(max_length=255),
        ),
        ops.AddField(
            model_name='Tenant',
            name='signing_secret_version',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name='Tenant',
            name='previous_signing_secret',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name='Tenant',
            name='previous_signing_secret_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Tenant',
            name='erasure_key',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.RunSQL(
            "UPDATE tenants SET erasure_key = signing_secret",
            reverse_sql="UPDATE tenants SET erasure_key = NULL",
        ),
        OnPostgres(
            model_name='Tenant',
            name='erasure_key',
            field=fields.CharField(max_length=255),
        ),
    ]
