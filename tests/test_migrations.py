from pathlib import Path

from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from app.settings import Settings


async def test_migrations_cover_every_model_change(tmp_path: Path) -> None:
    config = Settings(database_url=f"sqlite://{tmp_path / 'scratch.sqlite3'}").tortoise_config()

    async with tortoise_cli_context(config) as ctx:
        assert ctx.apps is not None
        pending = await MigrationAutodetector(ctx.apps, config["apps"]).changes()

    assert not pending, (
        "models changed without a migration: run `uv run tortoise makemigrations` and commit it"
    )
