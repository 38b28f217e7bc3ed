"""The one place Belfry reads its configuration from (environment, prefix BELFRY_)."""

import ipaddress
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from tortoise.backends.base.config_generator import expand_db_url

from app.crypto import SecretBox, box_for
from app.db import keep_session

DEFAULT_SECRET_KEY = "change-me"

DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "asyncpg"}  # Tortoise's names for them
APP_LABEL = "belfry"
MODEL_MODULES = ["app.models"]


def _split_list(value: Any) -> Any:
    """`a, b,c` as three items; JSON (`["a", "b"]`) as JSON. Anything else is left to the type."""
    if not isinstance(value, str):
        return value
    if value.lstrip().startswith("["):
        return json.loads(value)
    return [item.strip() for item in value.split(",") if item.strip()]


# A list setting an operator can write as `a,b,c`: pydantic-settings would otherwise read a
# list from the environment as JSON only, and stop at start on anything else.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


def _origin(text: str) -> str:
    # Imported here: Strawberry takes half a second to import, which the admin commands need
    # not wait for.
    from strawberry.http.websocket_origin import normalize_origin

    origin = normalize_origin(text)
    parts = urlsplit(text.strip())
    extra = parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc
    if origin is None or extra:
        raise ValueError(
            f"BELFRY_ALLOWED_ORIGINS: {text!r} is not an origin: write a scheme, a host and "
            "a port if it is not the scheme's own, such as https://app.example.com"
        )
    return origin


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BELFRY_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB"
    )
    broadcast_url: str = Field(
        default="memory://",
        description="memory://, redis://HOST:PORT/DB or redis+cluster://HOST:PORT,HOST:PORT",
    )
    # Websockets: how long one may stay open without signing in (both protocols), and how
    # many one user (or API key) and one client address may hold at once in a process; a
    # user (or API key) may hold as many subscriptions streamed over HTTP besides.
    ws_init_timeout_seconds: float = Field(default=10, gt=0)
    ws_ping_interval_seconds: float = Field(default=20, gt=0)
    ws_ping_timeout_seconds: float = Field(default=20, gt=0)
    max_sockets_per_user: int = Field(default=20, ge=1)
    max_sockets_per_address: int = Field(default=500, ge=1)
    subscriber_queue_limit: int = Field(default=100, ge=1)
    live_replay_seconds: float = Field(
        default=3600,
        gt=0,
        description="how long inbox events are kept for subscriptions resuming after a cursor",
    )
    allow_private_targets: bool = Field(
        default=False, description="let webhooks and APIs on private or loopback addresses receive"
    )
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    delivery_backoff_seconds: float = Field(default=5, gt=0, description="first retry delay")
    delivery_lease_seconds: float = Field(default=60, gt=0)
    delivery_poll_seconds: float = Field(default=2, gt=0)
    delivery_timeout_seconds: float = Field(default=10, gt=0)
    # On SIGTERM, how long sends in hand may take before they go back to the queue.
    shutdown_grace_seconds: float = Field(default=15, ge=0)
    embedded_jobs: bool = Field(
        default=True, description="run background jobs (retention) inside the API process"
    )
    retention_interval_seconds: float = Field(default=3600, gt=0)
    digest_interval_seconds: float = Field(default=30, gt=0, description="how often due digests go")
    inbox_clock_interval_seconds: float = Field(
        default=10, gt=0, description="how often snoozes end and expired notifications go"
    )
    schedule_interval_seconds: float = Field(
        default=1, gt=0, description="how often scheduled notifications due are sent"
    )
    gc_tuning: bool = Field(
        default=True,
        description="freeze start-up objects and collect young objects less often",
    )
    # OpenTelemetry's own variables, not BELFRY_ ones: the exporter reads the other OTEL_* itself.
    otel_traces_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
        description="OTLP/HTTP collector; when set (and belfry[otel] installed), traces are sent",
    )
    otel_service_name: str = Field(
        default="belfry",
        validation_alias="OTEL_SERVICE_NAME",
        description="the service name on every span",
    )
    metrics_token: str | None = Field(
        default=None, description="bearer token /metrics requires; unset: /metrics is open"
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1", description="where `belfry worker` serves /metrics"
    )
    worker_metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="`belfry worker` serves /metrics here; unset: off"
    )
    secret_key: CommaList = Field(
        default=[DEFAULT_SECRET_KEY],
        description="keys for channel secrets, newest first: sealed with the first, read with any",
    )
    allowed_origins: CommaList = Field(
        default_factory=list, description="browser origins served over HTTP and websockets; * any"
    )
    forwarded_allow_ips: CommaList = Field(
        default=["127.0.0.1", "::1"],
        description="proxies whose X-Forwarded-Proto and X-Forwarded-For are believed; * any",
    )
    session_cookie: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
        description="a cookie that may carry a user token (same-site web apps); unset: off",
    )
    user_token_default_ttl: int = 3600
    user_token_max_ttl: int = 30 * 24 * 3600
    # Read in any case (WARNING as warning).
    log_level: Annotated[
        Literal["debug", "info", "warning", "error", "critical"], BeforeValidator(str.lower)
    ] = Field(default="info", description="for every logger: Belfry's, uvicorn's, Tortoise's")
    log_format: Annotated[Literal["auto", "json", "text"], BeforeValidator(str.lower)] = Field(
        default="auto", description="JSON lines or text; auto: text on a terminal, else JSON"
    )
    # How long a client may take to send a request: its headers, then its body (408 after).
    http_header_timeout_seconds: float = Field(default=10, gt=0)
    http_body_timeout_seconds: float = Field(default=30, gt=0)
    # What one request may ask of the server (see the README's "Limits").
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="HTTP and websocket")
    max_document_chars: int = Field(default=16_384, ge=100, description="checked before parsing")
    max_document_tokens: int = Field(default=1000, ge=10, description="counted while parsing")
    max_query_cost: int = Field(
        default=10_000, ge=1, description="fields, each counted once per item of its pages"
    )
    validation_cache_bytes: int = Field(
        default=1024 * 1024, ge=0, description="documents known valid, from signed-in callers"
    )
    validation_cache_document_chars: int = Field(
        default=4096, ge=0, description="larger documents are validated every time"
    )
    # Requests per window for each caller (see the README's "Rate limits"); 0 turns one off.
    rate_limit_api_key: int = Field(default=6000, ge=0, description="per API key")
    rate_limit_user: int = Field(default=600, ge=0, description="per user (user token)")
    rate_limit_anonymous: int = Field(
        default=60, ge=0, description="per client address, for requests without valid credentials"
    )
    rate_limit_window_seconds: float = Field(default=60, gt=0)
    rate_limit_url: str | None = Field(
        default=None, description="as the broadcast URL, which it defaults to"
    )
    introspection: bool | None = Field(default=None, description="default: off in production")
    graphiql: bool | None = Field(default=None, description="default: off in production")
    demo: bool = Field(
        default=False,
        description="serve /demo and its token and publish endpoints (set by `belfry demo`)",
    )

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> "Settings":
        if self.environment == "production" and DEFAULT_SECRET_KEY in self.secret_key:
            raise ValueError("BELFRY_SECRET_KEY must be set to a real secret in production")
        if self.environment == "production" and self.demo:
            raise ValueError(
                "BELFRY_DEMO serves an unauthenticated token endpoint: refused in production"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _sqlite_or_postgres(cls, url: str | None) -> str | None:
        if url is not None and url.partition("://")[0] not in DATABASE_SCHEMES:
            raise ValueError("BELFRY_DATABASE_URL must start sqlite:// or postgres://")
        return url

    @field_validator("secret_key")
    @classmethod
    def _at_least_one_key(cls, keys: list[str]) -> list[str]:
        if not keys:
            raise ValueError("BELFRY_SECRET_KEY must hold at least one key")
        return keys

    @field_validator("allowed_origins")
    @classmethod
    def _origins_as_browsers_send_them(cls, origins: list[str]) -> list[str]:
        """Each in the one spelling browsers send (`HTTPS://App.example:443/` is
        `https://app.example`), so that an Origin header is compared with them as it is."""
        return sorted({origin if origin == "*" else _origin(origin) for origin in origins})

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if entry != "*" and not _is_network(entry):
                raise ValueError(
                    f"BELFRY_FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network"
                )
        return entries

    @model_validator(mode="after")
    def _refuse_any_origin_in_production(self) -> "Settings":
        # With `*`, any web page could call the API with a token it got hold of.
        if self.environment == "production" and "*" in self.allowed_origins:
            raise ValueError(
                "BELFRY_ALLOWED_ORIGINS must list the front ends' origins in production, not *"
            )
        return self

    @cached_property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.data_dir / 'belfry.sqlite3'}"

    @property
    def secret_box(self) -> SecretBox:
        return box_for(tuple(self.secret_key))

    @property
    def rate_limit_store(self) -> str:
        """Where request counts are kept: shared in Redis whenever live events are."""
        return self.rate_limit_url or self.broadcast_url

    @property
    def introspection_enabled(self) -> bool:
        return self._unless_production(self.introspection)

    @property
    def graphiql_enabled(self) -> bool:
        return self._unless_production(self.graphiql)

    def _unless_production(self, switch: bool | None) -> bool:
        return self.environment != "production" if switch is None else switch

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    def ensure_data_dir(self) -> None:
        if self.is_sqlite and not self.db_url.endswith(":memory:"):
            Path(self.db_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)

    def _connection_config(self) -> str | dict[str, Any]:
        if self.is_sqlite:
            return self.db_url
        config: dict[str, Any] = expand_db_url(self.db_url)
        config["credentials"]["reset"] = keep_session
        return config

    def tortoise_apps(self) -> dict[str, dict[str, object]]:
        """The apps of Tortoise's configuration, as its migration tools take them."""
        return {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        }

    def tortoise_config(self) -> dict[str, object]:
        """Tortoise's configuration, as Tortoise.init and RegisterTortoise take it."""
        return {
            "connections": {"default": self._connection_config()},
            "apps": self.tortoise_apps(),
            "use_tz": True,
            "timezone": "UTC",
        }


def variable_name(field: str) -> str:
    """The environment variable a setting is read from."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[-1])
    return alias if isinstance(alias, str) else f"BELFRY_{field.upper()}"


def describe_error(error: ValidationError) -> str:
    """Every problem on one line, each naming its variable, never the value (it may be a
    secret): what the CLI prints instead of pydantic's report."""
    problems = []
    for problem in error.errors():
        message = problem["msg"].removeprefix("Value error, ")
        loc = problem["loc"]
        if loc and str(loc[0]) in Settings.model_fields:
            name = variable_name(str(loc[0]))
            if not message.startswith(name):
                message = f"{name}: {message}"
        problems.append(message)
    return "; ".join(problems)


def __getattr__(name: str) -> dict[str, object]:
    # Tortoise's own CLI (`tortoise makemigrations`) reads `app.settings.TORTOISE_ORM`;
    # built lazily so importing this module never reads the environment by itself.
    if name == "TORTOISE_ORM":
        return Settings().tortoise_config()
    raise AttributeError(name)
