import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.crypto import SecretBox
from app.settings import Settings, describe_error, variable_name


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


def test_production_turns_graphiql_and_introspection_off_by_default() -> None:
    development = Settings(_env_file=None)
    production = Settings(environment="production", secret_key="s" * 40, _env_file=None)

    assert development.graphiql_enabled and development.introspection_enabled
    assert not production.graphiql_enabled and not production.introspection_enabled


def test_switches_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELFRY_INTROSPECTION", "true")
    monkeypatch.setenv("BELFRY_GRAPHIQL", "false")

    settings = Settings(environment="production", secret_key="s" * 40, _env_file=None)

    assert settings.introspection_enabled and not settings.graphiql_enabled


def test_request_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELFRY_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("BELFRY_MAX_QUERY_COST", "500")

    settings = Settings(_env_file=None)

    assert settings.max_body_bytes == 2048 and settings.max_query_cost == 500


def test_rate_limits_default_to_what_a_real_backend_does_not_reach() -> None:
    settings = Settings(_env_file=None)

    assert (settings.rate_limit_api_key, settings.rate_limit_user) == (6000, 600)
    assert settings.rate_limit_anonymous == 60 and settings.rate_limit_window_seconds == 60


def test_rate_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELFRY_RATE_LIMIT_API_KEY", "0")
    monkeypatch.setenv("BELFRY_RATE_LIMIT_USER", "100")
    monkeypatch.setenv("BELFRY_RATE_LIMIT_ANONYMOUS", "5")
    monkeypatch.setenv("BELFRY_RATE_LIMIT_WINDOW_SECONDS", "10")

    settings = Settings(_env_file=None)

    assert (settings.rate_limit_api_key, settings.rate_limit_user) == (0, 100)
    assert settings.rate_limit_anonymous == 5 and settings.rate_limit_window_seconds == 10


def test_requests_are_counted_where_live_events_go_unless_told_otherwise() -> None:
    on_redis = Settings(broadcast_url="redis://cache:6379/0", _env_file=None)
    apart = Settings(
        broadcast_url="redis://cache:6379/0", rate_limit_url="memory://", _env_file=None
    )

    assert Settings(_env_file=None).rate_limit_store == "memory://"
    assert on_redis.rate_limit_store == "redis://cache:6379/0"
    assert apart.rate_limit_store == "memory://"


def test_a_negative_rate_limit_is_refused() -> None:
    with pytest.raises(ValidationError, match="rate_limit_user"):
        Settings(rate_limit_user=-1, _env_file=None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://app.example", ["http://app.example"]),
        (
            "http://a.example, https://b.example:8443",
            ["http://a.example", "https://b.example:8443"],
        ),
        (" http://a.example ,, ", ["http://a.example"]),
        ("", []),
        ('["http://a.example", "http://b.example"]', ["http://a.example", "http://b.example"]),
    ],
)
def test_a_list_setting_is_read_comma_separated_or_as_json(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    # given the list written as an operator would, in one environment variable
    monkeypatch.setenv("BELFRY_ALLOWED_ORIGINS", value)

    # when the settings are read; then each item is one entry, trimmed
    assert Settings(_env_file=None).allowed_origins == expected


def test_a_list_setting_is_read_from_a_dotenv_file_too(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BELFRY_ALLOWED_ORIGINS=http://a.example,http://b.example\n")

    settings = Settings(_env_file=env_file)

    assert settings.allowed_origins == ["http://a.example", "http://b.example"]


def test_any_origin_is_refused_in_production() -> None:
    # given a production configuration that lets every origin in
    with pytest.raises(ValidationError, match="BELFRY_ALLOWED_ORIGINS"):
        Settings(
            environment="production", secret_key="s" * 40, allowed_origins=["*"], _env_file=None
        )


def test_any_origin_is_allowed_outside_production() -> None:
    settings = Settings(allowed_origins=["*"], _env_file=None)

    assert settings.allowed_origins == ["*"]


def test_origins_are_read_as_browsers_send_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELFRY_ALLOWED_ORIGINS", "HTTPS://App.Example:443/, http://b.example:8080")

    settings = Settings(_env_file=None)

    assert settings.allowed_origins == ["http://b.example:8080", "https://app.example"]


@pytest.mark.parametrize("origin", ["app.example", "https://app.example/inbox", "null"])
def test_something_that_is_no_origin_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, origin: str
) -> None:
    monkeypatch.setenv("BELFRY_ALLOWED_ORIGINS", origin)

    with pytest.raises(ValidationError, match="BELFRY_ALLOWED_ORIGINS"):
        Settings(_env_file=None)


def test_proxies_are_trusted_on_loopback_by_default() -> None:
    assert Settings(_env_file=None).forwarded_allow_ips == ["127.0.0.1", "::1"]


@pytest.mark.parametrize("entry", ["proxy.example", "10.0.0.0/33"])
def test_a_trusted_proxy_that_is_no_address_or_network_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    # Given a trusted proxy written as a name, or as a network that cannot be
    monkeypatch.setenv("BELFRY_FORWARDED_ALLOW_IPS", f"10.0.0.1, {entry}")

    # When the settings are read, then they are refused, naming the variable and the entry
    with pytest.raises(ValidationError, match=f"BELFRY_FORWARDED_ALLOW_IPS: '{entry}'"):
        Settings(_env_file=None)


def test_the_secret_key_may_be_several_keys_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELFRY_SECRET_KEY", "new-key, old-key")

    settings = Settings(_env_file=None)

    assert settings.secret_key == ["new-key", "old-key"]
    assert settings.secret_box.open(SecretBox(["old-key"]).seal("s")) == "s"


def test_production_refuses_the_default_secret_anywhere_in_the_list() -> None:
    with pytest.raises(ValidationError, match="BELFRY_SECRET_KEY"):
        Settings(environment="production", secret_key="s" * 40 + ",change-me", _env_file=None)


def test_a_configuration_error_names_each_variable_and_never_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BELFRY_MAX_BODY_BYTES", "hunter2")
    monkeypatch.setenv("BELFRY_SECRET_KEY", ",")

    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, database_url="mysql://db")

    described = describe_error(raised.value)
    assert "\n" not in described and "hunter2" not in described
    for name in ("BELFRY_MAX_BODY_BYTES", "BELFRY_SECRET_KEY", "BELFRY_DATABASE_URL"):
        assert name in described


def documented_settings() -> dict[str, str]:
    """The operator guide's configuration table: variable to its default column."""
    guide = (Path(__file__).parent.parent / "docs" / "operations.md").read_text()
    section = guide.split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    return {name: default.strip() for name, default in rows}


def shown(default: Any) -> str | None:
    """A default as the table writes it; None when the table explains it in words."""
    if default is None:
        return None
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, list):
        return f"`{','.join(default)}`" if default else None
    if isinstance(default, float) and default.is_integer():
        return f"`{int(default)}`"
    return f"`{default}`"


def test_the_operator_guide_lists_every_setting_with_its_default() -> None:
    documented = documented_settings()

    expected = {variable_name(name): field for name, field in Settings.model_fields.items()}

    assert sorted(documented) == sorted(expected)
    for name, field in expected.items():
        default = field.get_default(call_default_factory=True)
        if shown(default) is not None:
            assert documented[name] == shown(default), name
