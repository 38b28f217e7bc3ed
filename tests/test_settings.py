from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BELFRY_DATABASE_URL", "BELFRY_BROADCAST_URL", "BELFRY_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)

    settings = Settings(_env_file=None)

    assert settings.db_url == f"sqlite://{Path('data') / 'belfry.sqlite3'}"
    assert settings.broadcast_url == "memory://"


def test_environment_variables_configure_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELFRY_DATABASE_URL", "postgres://u@db:5432/belfry")
    monkeypatch.setenv("BELFRY_ALLOWED_ORIGINS", '["https://app.example.com"]')

    settings = Settings(_env_file=None)

    assert settings.db_url == "postgres://u@db:5432/belfry"
    assert settings.allowed_origins == ["https://app.example.com"]


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="BELFRY_SECRET_KEY"):
        Settings(environment="production", _env_file=None)


def test_production_starts_with_a_real_secret() -> None:
    settings = Settings(environment="production", secret_key="s" * 40, _env_file=None)

    assert settings.environment == "production"
