"""The `belfry` command: serve, migrate, demo, and tenant / key / user / token admin.

Configuration is read from BELFRY_* environment variables (see docs/operations.md)."""

import argparse
import asyncio
import contextlib
import functools
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn, TypeVar, cast
from uuid import UUID

from pydantic import ValidationError
from tortoise import Tortoise
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

from app import logs, metrics
from app.db import connect_now, connection
from app.encoding import JsonObject, JsonValue
from app.errors import BelfryError, NotFound
from app.live.hub import connect_hub
from app.models import Role, Tenant
from app.services import credentials, rotation, tenants, users
from app.services.validation import parse_uuid
from app.settings import Settings, describe_error
from app.tracing import configure as configure_tracing

T = TypeVar("T")


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """A database that is down, as one line naming the setting."""
    try:
        yield
    except (OSError, DBConnectionError) as error:
        raise BelfryError(f"cannot reach the database at BELFRY_DATABASE_URL: {error}") from error


async def migrate(settings: Settings) -> None:
    settings.ensure_data_dir()
    try:
        with _database_errors():
            await run_migrations(config=settings.tortoise_config())
    finally:
        await Tortoise.close_connections()


async def _with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    settings.ensure_data_dir()
    try:
        await _open_migrated(settings)
        return await work()
    finally:
        await Tortoise.close_connections()


async def _open_migrated(settings: Settings) -> None:
    """Connects, and refuses a database this version has migrations for: one line, where
    every query would otherwise fail on a missing table or column."""
    config = settings.tortoise_config()
    with _database_errors():
        await Tortoise.init(config=config)
        await connect_now()
        pending = await MigrationExecutor(connection(), settings.tortoise_apps()).plan()
    if pending:
        raise BelfryError(
            f"the database at BELFRY_DATABASE_URL lacks {len(pending)} of this version's "
            "migrations: run `belfry migrate` first"
        )


async def _check_migrated(settings: Settings) -> None:
    try:
        await _open_migrated(settings)
    finally:
        await Tortoise.close_connections()


def _emit(result: Mapping[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


async def create_tenant(settings: Settings, name: str) -> JsonObject:
    created = await tenants.create_tenant(name=name, box=settings.secret_box)
    key = await tenants.create_api_key(tenant_id=created.record.id, name="initial")
    return {
        "tenantId": str(created.record.id),
        "apiKey": key.plain_key,
        "signingSecret": created.signing_secret,
    }


async def _tenant_id(raw: str) -> UUID:
    tenant_id = parse_uuid(raw)
    if tenant_id is None or not await Tenant.exists(id=tenant_id):
        raise NotFound(f"No tenant {raw}")
    return tenant_id


async def create_api_key(tenant_id: str, name: str) -> JsonObject:
    key = await tenants.create_api_key(tenant_id=await _tenant_id(tenant_id), name=name)
    return {"tenantId": tenant_id, "apiKeyId": str(key.record.id), "apiKey": key.plain_key}


async def upsert_user(
    settings: Settings, tenant_id: str, external_id: str, args: argparse.Namespace
) -> JsonObject:
    fields = users.UserFields(
        email=args.email,
        name=args.name,
        phone=args.phone,
        role=Role(args.role) if args.role else None,
    )
    # Through the hub, so that a changed role reaches the running servers' sockets (with Redis).
    async with connect_hub(settings):
        user = await users.upsert_user(
            tenant_id=await _tenant_id(tenant_id), external_id=external_id, fields=fields
        )
    return {"userId": str(user.id), "externalId": user.external_id, "role": user.role.value}


async def issue_token(
    settings: Settings, tenant_id: str, external_id: str, ttl: int | None
) -> JsonObject:
    issued = await users.issue_user_token(
        tenant_id=await _tenant_id(tenant_id),
        external_id=external_id,
        ttl_seconds=settings.user_token_default_ttl if ttl is None else ttl,
        max_ttl_seconds=settings.user_token_max_ttl,
        box=settings.secret_box,
    )
    return {"token": issued.token, "expiresAt": issued.expires_at.isoformat()}


async def erase_user(settings: Settings, tenant_id: str, external_id: str) -> JsonObject:
    # Through the hub, so that the running servers close the user's sockets (with Redis).
    async with connect_hub(settings):
        erased = await users.erase_user(
            tenant_id=await _tenant_id(tenant_id),
            external_id=external_id,
            box=settings.secret_box,
        )
    return {"erased": erased}


async def rotate_signing_secret(
    settings: Settings, tenant_id: str, grace_seconds: int
) -> JsonObject:
    # Through the hub, so that the running servers close the sockets of retired tokens.
    async with connect_hub(settings):
        rotated = await tenants.rotate_signing_secret(
            tenant_id=await _tenant_id(tenant_id),
            grace_seconds=grace_seconds,
            box=settings.secret_box,
        )
    return {
        "tenantId": tenant_id,
        "signingSecret": rotated.signing_secret,
        "previousSecretValidUntil": rotated.previous_until.isoformat(),
    }


async def rotate_secrets(settings: Settings, batch_size: int) -> JsonObject:
    report = await rotation.rotate_secrets(settings.secret_box, batch_size=batch_size)
    return {**report.as_dict(), "unreadableSecrets": [*report.unreadable]}


def _refuse_unreadable(result: JsonObject) -> None:
    """After the counts are out, so that a script sees what was rotated all the same."""
    unreadable = [str(secret) for secret in cast(list[JsonValue], result["unreadableSecrets"])]
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (", ..." if len(unreadable) > 3 else "")
        raise BelfryError(
            f"{len(unreadable)} stored secrets cannot be read with any key in BELFRY_SECRET_KEY "
            f"and were left as they were ({shown}): add the key they were sealed with"
        )


async def work(settings: Settings) -> None:
    """Runs the jobs until stopped; any number of workers may run against PostgreSQL."""
    from app.http.metrics import worker_listener
    from app.main import start_jobs, stop_jobs  # the server's modules: see _serve

    configure_tracing(settings)
    try:
        await _open_migrated(settings)
        async with (
            connect_hub(settings),
            credentials.following_credentials(),  # the jobs publish, through the recipients cache
            worker_listener(settings),
        ):
            jobs = start_jobs(settings)
            try:
                await _until_terminated(jobs)
            finally:
                await stop_jobs(jobs)  # sends in hand finish within the grace period
    finally:
        await Tortoise.close_connections()


async def _until_terminated(jobs: list[asyncio.Task[None]]) -> None:
    """Until SIGTERM or SIGINT (or a job ends, which it only does by failing)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([waiter, *jobs], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def schema_sdl() -> str:
    from app.graphql.schema import schema  # see _serve

    return schema.as_str() + "\n"


def check_workers(settings: Settings, workers: int) -> None:
    shared = not settings.is_sqlite and not settings.broadcast_url.startswith("memory")
    if workers > 1 and not shared:
        raise BelfryError(
            "--workers above 1 needs a shared database and broadcast: set BELFRY_DATABASE_URL "
            "to PostgreSQL and BELFRY_BROADCAST_URL to Redis"
        )


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    # Several processes share their metrics through files, in a directory made for this run.
    with metrics.shared_between_processes() if workers > 1 else contextlib.nullcontext():
        _run_uvicorn(settings, host, port, workers)


def _run_uvicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn  # see _serve

    from app.http.http_protocol import HttpProtocol
    from app.http.websocket_protocol import WebSocketProtocol

    # Bound here rather than a subclass made on the fly: --workers sends it to each process.
    http = functools.partial(
        HttpProtocol,
        header_timeout=settings.http_header_timeout_seconds,
        body_timeout=settings.http_body_timeout_seconds,
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=logs.config(settings),  # its lines, access log included, as ours
        http=cast(type[asyncio.Protocol], http),  # slow clients are cut off (408)
        ws_per_message_deflate=False,  # ~300 KiB per idle socket otherwise
        ws_max_size=settings.max_body_bytes,  # a websocket message is held whole, like a body
        ws=WebSocketProtocol,  # a peer that stops reading is cut off when its ping times out
        ws_ping_interval=settings.ws_ping_interval_seconds,  # keeps idle sockets alive
        ws_ping_timeout=settings.ws_ping_timeout_seconds,  # through proxies, finds dead peers
        # X-Forwarded-For and X-Forwarded-Proto from these: the client address that rate
        # limits count, and the scheme that makes an https page the API's own origin.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="belfry", description=__doc__)
    parser.add_argument("--version", action="version", version=f"belfry {version('belfry')}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        """A subcommand whose own --help says what it does, as the list of commands does."""
        return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:])

    def serving(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
        p.add_argument("--port", type=int, default=8000, help="port to listen on (%(default)s)")
        p.add_argument(
            "--workers", type=int, default=1, help="server processes; above 1 needs PostgreSQL"
        )
        p.add_argument("--no-migrate", action="store_true", help="skip migrating first")

    def as_json(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON object")

    def tenant(p: argparse.ArgumentParser) -> None:
        p.add_argument("tenant_id", help="the tenant's id")

    def user(p: argparse.ArgumentParser) -> None:
        tenant(p)
        p.add_argument("external_id", help="the user's id in your system")

    serving(command("serve", "run the API (migrates first)"))
    serving(command("demo", "serve with a demo tenant, API key and user token"))
    command("migrate", "apply database migrations")
    command("worker", "run the background jobs (delivery, retention) without serving")
    p = command("export-schema", "write the GraphQL schema (SDL)")
    p.add_argument("--output", default="schema.graphql", help="file to write (%(default)s)")

    p = command(
        "rotate-secrets",
        "re-encrypt every stored secret (channels', tenants' signing secrets) with the newest key",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="channel configs or tenants read at a time (%(default)s)",
    )
    as_json(p)

    p = command("create-tenant", "create a tenant and its first API key")
    p.add_argument("name", help="the tenant's name")
    as_json(p)

    p = command("create-api-key", "create another API key for a tenant")
    tenant(p)
    p.add_argument("--name", default="", help="a label to tell keys apart")
    as_json(p)

    p = command("upsert-user", "create or update a user")
    user(p)
    p.add_argument("--email", help="address for the email channel")
    p.add_argument("--phone", help="number for the SMS channel, E.164 (+15551234567)")
    p.add_argument("--name", help="display name")
    p.add_argument("--role", choices=[r.value for r in Role], help="role in the tenant")
    as_json(p)

    p = command("issue-token", "mint a user token (a user not seen yet becomes a member)")
    user(p)
    p.add_argument("--ttl", type=int, help="lifetime in seconds (BELFRY_USER_TOKEN_DEFAULT_TTL)")
    as_json(p)

    p = command("erase-user", "erase a user and all Belfry holds of them (GDPR)")
    user(p)
    as_json(p)

    p = command(
        "rotate-signing-secret",
        "give a tenant a new secret for user tokens; prints it, this once",
    )
    tenant(p)
    p.add_argument(
        "--grace-seconds",
        type=int,
        default=tenants.DEFAULT_GRACE_SECONDS,
        help="how long tokens signed with the old secret still work, 0 to 30 days (%(default)s)",
    )
    as_json(p)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Configuration errors are one line on stderr and exit code 2, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        _fail(describe_error(error))
    try:
        run(args, settings)
    except BelfryError as error:
        _fail(str(error))
    except KeyboardInterrupt:  # Ctrl-C outside the server's own handling: stopped, not failed
        raise SystemExit(130) from None


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    # The server's modules (the GraphQL schema, uvicorn) are imported only by the commands
    # that serve or work: the admin commands start a second sooner without them.
    from app import demo
    from app.http.metrics import listen

    if args.command == "demo":
        settings = demo.enable(settings)
    check_workers(settings, args.workers)
    # A port in use is one line before anything starts, where uvicorn would start the
    # application first and log its failure after.
    listen(args.host, args.port, "--port").close()
    asyncio.run(_check_migrated(settings) if args.no_migrate else migrate(settings))
    if args.command == "demo":
        prepared = asyncio.run(_with_db(settings, lambda: demo.prepare_demo(settings)))
        print("Belfry demo tenant (use the API key server side, the token in a browser):")
        _emit(prepared, as_json=False)
        print(f"GraphiQL: http://{args.host}:{args.port}/graphql")
        print(f"Demo inbox: http://{args.host}:{args.port}{demo.DEMO_PATH}", flush=True)
    serve(settings, args.host, args.port, args.workers)


def run(args: argparse.Namespace, settings: Settings) -> None:
    logs.configure(settings)
    command = args.command
    if command in ("serve", "demo"):
        _serve(args, settings)
        return
    if command == "migrate":
        asyncio.run(migrate(settings))
        return
    if command == "worker":
        asyncio.run(work(settings))
        return
    if command == "export-schema":
        Path(args.output).write_text(schema_sdl())
        return
    jobs: dict[str, Callable[[], Awaitable[JsonObject]]] = {
        "create-tenant": lambda: create_tenant(settings, args.name),
        "create-api-key": lambda: create_api_key(args.tenant_id, args.name),
        "upsert-user": lambda: upsert_user(settings, args.tenant_id, args.external_id, args),
        "issue-token": lambda: issue_token(settings, args.tenant_id, args.external_id, args.ttl),
        "erase-user": lambda: erase_user(settings, args.tenant_id, args.external_id),
        "rotate-secrets": lambda: rotate_secrets(settings, args.batch_size),
        "rotate-signing-secret": lambda: rotate_signing_secret(
            settings, args.tenant_id, args.grace_seconds
        ),
    }
    # An admin command prints its result; the ORM's start and stop lines would only bury it.
    logs.quieten("tortoise")
    result = asyncio.run(_with_db(settings, jobs[command]))
    _emit(result, as_json=args.json)
    if command == "rotate-secrets":
        _refuse_unreadable(result)


if __name__ == "__main__":
    main()
