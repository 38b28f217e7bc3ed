"""The `belfry` command as scripts drive it: a real process, a real SQLite file."""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import httpx
import jwt
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app import cli
from app.crypto import SecretBox
from app.settings import Settings
from tests.conftest import free_port
from tests.helpers import (
    ISSUE_TOKEN,
    UPSERT_USER,
    Api,
    TenantAccess,
    UserAccess,
    erase_user,
    make_tenant,
    make_user,
    publish,
    store_webhook,
)
from tests.processes import created_tenant, replica_database, serve_process, until_serving
from tests.wsclient import GraphQLSocket


def belfry(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "BELFRY_DATABASE_URL": sqlite_url(tmp_path), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'cli.sqlite3'}"


def migrated(tmp_path: Path, template: Path) -> None:
    """The CLI's database, migrated: a copy of the suite's migrated SQLite file (the test
    below runs `belfry migrate` itself)."""
    shutil.copyfile(template, tmp_path / "cli.sqlite3")


def test_admin_commands_print_json_that_scripts_can_chain(tmp_path: Path) -> None:
    assert belfry(tmp_path, "migrate").returncode == 0

    tenant = json.loads(belfry(tmp_path, "create-tenant", "Acme", "--json").stdout)
    user = json.loads(
        belfry(
            tmp_path, "upsert-user", tenant["tenantId"], "u1", "--role", "ADMIN", "--json"
        ).stdout
    )
    token = json.loads(belfry(tmp_path, "issue-token", tenant["tenantId"], "u1", "--json").stdout)
    key = json.loads(belfry(tmp_path, "create-api-key", tenant["tenantId"], "--json").stdout)
    erased = json.loads(belfry(tmp_path, "erase-user", tenant["tenantId"], "u1", "--json").stdout)
    again = json.loads(belfry(tmp_path, "erase-user", tenant["tenantId"], "u1", "--json").stdout)

    assert tenant["apiKey"].startswith("bfk_") and tenant["tenantId"]
    assert user == {"userId": user["userId"], "externalId": "u1", "role": "ADMIN"}
    claims = jwt.decode(token["token"], tenant["signingSecret"], algorithms=["HS256"])
    assert claims["sub"] == "u1" and claims["tid"] == tenant["tenantId"]
    assert key["apiKey"].startswith("bfk_") and key["apiKey"] != tenant["apiKey"]
    assert (erased, again) == ({"erased": True}, {"erased": False})  # says if there was a user


def test_admin_errors_exit_non_zero_with_a_message(tmp_path: Path, sqlite_template: Path) -> None:
    migrated(tmp_path, sqlite_template)

    result = belfry(tmp_path, "issue-token", "00000000-0000-0000-0000-000000000000", "nobody")

    assert result.returncode == 2 and "error:" in result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BELFRY_ENVIRONMENT": "production"}, "BELFRY_SECRET_KEY"),
        ({"BELFRY_SECRET_KEY": " , "}, "BELFRY_SECRET_KEY"),
        ({"BELFRY_LOG_LEVEL": "loud"}, "BELFRY_LOG_LEVEL"),
        ({"BELFRY_MAX_BODY_BYTES": "hunter2"}, "BELFRY_MAX_BODY_BYTES"),
        ({"BELFRY_DATABASE_URL": "mysql://db/belfry"}, "BELFRY_DATABASE_URL"),
        ({"BELFRY_ALLOWED_ORIGINS": "app.example.com"}, "BELFRY_ALLOWED_ORIGINS"),
    ],
    ids=["production-default-key", "no-key", "log-level", "not-a-number", "db-scheme", "origin"],
)
def test_a_configuration_error_is_one_line_naming_the_setting(
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as exited:
        cli.main(["migrate"])  # stops before touching any database

    assert exited.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and named in line
    assert "hunter2" not in line  # the value may be a secret: never echoed


def test_a_database_that_cannot_be_reached_is_one_error_line(tmp_path: Path) -> None:
    unreachable = {"BELFRY_DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/test"}

    result = belfry(tmp_path, "create-tenant", "Acme", env=unreachable)

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "error: cannot reach the database at BELFRY_DATABASE_URL"
    )


def test_every_command_and_option_says_what_it_does() -> None:
    parser = cli.build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]

    undocumented = [
        f"{name} {action.dest}"
        for name, command in commands.choices.items()
        for action in command._actions
        if not action.help and not isinstance(action, argparse._HelpAction)
    ]
    unsaid = [c.dest for c in commands._choices_actions if not c.help]
    undescribed = [name for name, command in commands.choices.items() if not command.description]

    assert undocumented == [] and unsaid == [] and undescribed == []
    assert "rotate-secrets" in commands.choices


def seal_a_webhook(tmp_path: Path, key: str) -> str:
    """A tenant whose webhook secret, signing secret and erasure key are sealed with `key`,
    written into the CLI's database."""

    async def store() -> str:
        EXECUTOR_CACHE.clear()  # this process's other tests may have used PostgreSQL
        settings = Settings(database_url=sqlite_url(tmp_path), _env_file=None)
        await Tortoise.init(config=settings.tortoise_config())
        try:
            tenant = await make_tenant(box=SecretBox([key]))
            await store_webhook(tenant.tenant_id, SecretBox([key]))
            return tenant.tenant_id
        finally:
            await Tortoise.close_connections()

    return asyncio.run(store())


def test_rotate_secrets_moves_them_to_the_new_key_and_never_loses_one(
    tmp_path: Path, sqlite_template: Path
) -> None:
    # given a secret sealed with the old key
    migrated(tmp_path, sqlite_template)
    tenant_id = seal_a_webhook(tmp_path, "old")

    # when rotated with a key that cannot read it, then with the new key in front of the
    # old one, then with the new key alone
    wrong = belfry(tmp_path, "rotate-secrets", env={"BELFRY_SECRET_KEY": "wrong"})
    first = belfry(tmp_path, "rotate-secrets", "--json", env={"BELFRY_SECRET_KEY": "new,old"})
    again = belfry(tmp_path, "rotate-secrets", "--json", env={"BELFRY_SECRET_KEY": "new"})

    # then the wrong key fails on one line naming the secrets, and leaves them to the right key
    assert wrong.returncode == 2 and "unreadable: 3" in wrong.stdout
    [line] = [line for line in wrong.stderr.splitlines() if not line.startswith("{")]  # no logs
    assert "BELFRY_SECRET_KEY" in line and f"{tenant_id} WEBHOOK signingSecret" in line
    assert f"{tenant_id} signingSecret" in line and f"{tenant_id} erasureKey" in line
    assert json.loads(first.stdout) == {
        "channels": 1,
        "tenants": 1,
        "rotated": 3,  # the webhook's secret, the tenant's signing secret and erasure key
        "current": 0,
        "unreadable": 0,
        "unreadableSecrets": [],
    }
    # and the old key can go
    assert json.loads(again.stdout)["current"] == 3 and again.returncode == 0


def test_rotate_signing_secret_prints_the_new_secret_that_tokens_are_signed_with(
    tmp_path: Path, sqlite_template: Path
) -> None:
    # Given a tenant and a user, made with the command line
    migrated(tmp_path, sqlite_template)
    tenant = json.loads(belfry(tmp_path, "create-tenant", "Acme", "--json").stdout)
    belfry(tmp_path, "upsert-user", tenant["tenantId"], "u1")

    # When its signing secret is rotated with a minute's grace
    command = ["rotate-signing-secret", tenant["tenantId"], "--grace-seconds", "60", "--json"]
    rotated = belfry(tmp_path, *command)

    # Then it prints one JSON object with the new secret, which the tokens issued now are
    # signed with
    printed = json.loads(rotated.stdout)
    assert rotated.returncode == 0
    assert set(printed) == {"tenantId", "signingSecret", "previousSecretValidUntil"}
    assert printed["signingSecret"] != tenant["signingSecret"]
    until = datetime.fromisoformat(printed["previousSecretValidUntil"])
    assert datetime.now(UTC) < until <= datetime.now(UTC) + timedelta(seconds=60)
    token = json.loads(belfry(tmp_path, "issue-token", tenant["tenantId"], "u1", "--json").stdout)
    claims = jwt.decode(token["token"], printed["signingSecret"], algorithms=["HS256"])
    assert claims["sub"] == "u1"


@pytest.mark.parametrize("grace", ["-1", "2592001"])
def test_rotate_signing_secret_refuses_a_grace_beyond_30_days_on_one_line(
    tmp_path: Path, sqlite_template: Path, grace: str
) -> None:
    migrated(tmp_path, sqlite_template)
    tenant = json.loads(belfry(tmp_path, "create-tenant", "Acme", "--json").stdout)

    result = belfry(tmp_path, "rotate-signing-secret", tenant["tenantId"], "--grace-seconds", grace)

    assert result.returncode == 2 and result.stdout == ""
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert line.startswith("error: ") and "graceSeconds" in line


def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == f"belfry {version('belfry')}\n"


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"

    assert belfry(tmp_path, "export-schema", "--output", str(out)).returncode == 0

    assert "type Query" in out.read_text() and "publishNotification" in out.read_text()


def test_a_malformed_tenant_id_is_a_clear_error(tmp_path: Path, sqlite_template: Path) -> None:
    migrated(tmp_path, sqlite_template)

    result = belfry(tmp_path, "create-api-key", "not-a-uuid")

    assert result.returncode == 2 and "No tenant not-a-uuid" in result.stderr


def test_several_workers_need_postgres_and_redis(tmp_path: Path) -> None:
    result = belfry(tmp_path, "serve", "--workers", "2", "--no-migrate")

    assert result.returncode == 2 and "BELFRY_BROADCAST_URL" in result.stderr


# --- what one process does reaches the others, through PostgreSQL and Redis -----------------


@dataclass(frozen=True)
class Replicas:
    env: dict[str, str]
    first: str
    second: str
    tenant: TenantAccess


@pytest.fixture(scope="module")
def replicas(
    postgres_database: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    """Two API processes sharing a fresh PostgreSQL database and the test Redis, and a tenant
    made with the CLI; each test signs up users of its own. (postgres_database is asked for
    only to skip, or fail in CI, without PostgreSQL.)"""
    logs = tmp_path_factory.mktemp("replicas")
    with replica_database(redis_url) as env:
        tenant = created_tenant(env)
        with (
            serve_process(env, free_port(), logs / "first.log") as first,
            serve_process(env, free_port(), logs / "second.log") as second,
        ):
            yield Replicas(env=env, first=first, second=second, tenant=tenant)


async def test_two_api_processes_share_live_events_through_redis(replicas: Replicas) -> None:
    async with httpx.AsyncClient(base_url=replicas.second) as client:
        api = Api(client)
        alice = await make_user(api, replicas.tenant)
        socket = await GraphQLSocket.open(ws_url(replicas.first), alice.token)
        await socket.acknowledged()
        op = await socket.subscribe("subscription { unreadCount }")
        assert (await socket.next(op))["unreadCount"] == 0

        await publish(api, replicas.tenant, [alice.external_id])

        assert (await socket.next(op))["unreadCount"] == 1
        await socket.close()


async def test_a_subscriber_resumes_on_another_process_with_exactly_what_it_missed(
    replicas: Replicas,
) -> None:
    query = (
        "subscription($after: String) { inbox(after: $after) "
        "{ kind cursor notification { title } } }"
    )
    async with httpx.AsyncClient(base_url=replicas.second) as client:
        api = Api(client)
        alice = await make_user(api, replicas.tenant)
        # given a subscriber on the first process that saw one event, then lost its socket
        socket = await GraphQLSocket.open(ws_url(replicas.first), alice.token)
        await socket.acknowledged()
        op = await socket.subscribe(query)
        assert (await socket.next(op))["inbox"]["kind"] == "SYNC"
        await publish(api, replicas.tenant, [alice.external_id], title="seen")
        seen = (await socket.next(op))["inbox"]
        await socket.close()

        # when ten are published meanwhile and it comes back on the second, with its cursor
        for i in range(10):
            await publish(api, replicas.tenant, [alice.external_id], title=f"missed {i}")
        socket = await GraphQLSocket.open(ws_url(replicas.second), alice.token)
        await socket.acknowledged()
        op = await socket.subscribe(query, {"after": seen["cursor"]})
        replayed = [(await socket.next(op))["inbox"] for _ in range(10)]
        nothing_more = await socket.nothing_within(0.3)
        await socket.close()

    # then it gets exactly those ten, in order
    assert [(e["kind"], e["notification"]["title"]) for e in replayed] == [
        ("CREATED", f"missed {i}") for i in range(10)
    ]
    assert nothing_more


def ws_url(http_url: str) -> str:
    return http_url.replace("http", "ws") + "/graphql"


async def inbox_socket(http_url: str, user: UserAccess) -> GraphQLSocket:
    socket = await GraphQLSocket.open(ws_url(http_url), user.token)
    await socket.acknowledged()
    op = await socket.subscribe("subscription { inbox { kind } }")
    assert (await socket.next(op))["inbox"]["kind"] == "SYNC"
    return socket


async def viewer_and_titles(api: Api, token: str) -> tuple[str, list[str]]:
    query = "{ viewer { id } notifications { edges { node { title } } } }"
    data = await api.data(query, token=token)
    return data["viewer"]["id"], [e["node"]["title"] for e in data["notifications"]["edges"]]


async def test_an_erase_through_one_process_reaches_the_users_socket_and_cache_on_another(
    replicas: Replicas,
) -> None:
    tenant = replicas.tenant
    async with (
        httpx.AsyncClient(base_url=replicas.first) as first_client,
        httpx.AsyncClient(base_url=replicas.second) as second_client,
    ):
        through_first, through_second = Api(first_client), Api(second_client)
        alice = await make_user(through_second, tenant)
        old_id, _ = await viewer_and_titles(through_second, alice.token)
        socket = await inbox_socket(replicas.second, alice)
        # the second process looks alice up, and keeps her in its recipients cache
        await publish(through_second, tenant, [alice.external_id], title="before")

        assert await erase_user(through_first, tenant.api_key, alice.external_id) is True

        assert await socket.close_frame(timeout=2) == (4401, "user erased")
        await publish(through_second, tenant, [alice.external_id], title="after")
        issued = await through_second.data(
            ISSUE_TOKEN, {"externalId": alice.external_id}, token=tenant.api_key
        )
        new_id, titles = await viewer_and_titles(through_second, issued["issueUserToken"]["token"])
        assert new_id != old_id and titles == ["after"]


async def test_erase_user_from_the_command_line_closes_the_users_socket_on_a_server(
    replicas: Replicas,
) -> None:
    tenant = replicas.tenant
    async with httpx.AsyncClient(base_url=replicas.first) as client:
        alice = await make_user(Api(client), tenant)
        socket = await inbox_socket(replicas.first, alice)

        command = ["erase-user", tenant.tenant_id, alice.external_id, "--json"]
        subprocess.run(
            [sys.executable, "-m", "app.cli", *command],
            env=replicas.env,
            capture_output=True,
            check=True,
        )

        assert await socket.close_frame(timeout=2) == (4401, "user erased")


async def test_a_signing_secret_rotated_from_the_command_line_closes_old_sockets_on_the_servers(
    replicas: Replicas,
) -> None:
    # Given a tenant of its own, and its user's sockets on both servers
    tenant = created_tenant(replicas.env)
    async with httpx.AsyncClient(base_url=replicas.first) as client:
        alice = await make_user(Api(client), tenant)
        sockets = [await inbox_socket(url, alice) for url in (replicas.first, replicas.second)]

        # When its secret is rotated with no grace, from a process of its own
        command = ["rotate-signing-secret", tenant.tenant_id, "--grace-seconds", "0", "--json"]
        subprocess.run(
            [sys.executable, "-m", "app.cli", *command],
            env=replicas.env,
            capture_output=True,
            check=True,
        )

        # Then both are closed, and the token is refused on both
        for socket in sockets:
            assert await socket.close_frame(timeout=2) == (4401, "signing secret rotated")
        for url in (replicas.first, replicas.second):
            async with httpx.AsyncClient(base_url=url) as other:
                error = await Api(other).error("{ viewer { id } }", token=alice.token)
            assert error["extensions"]["code"] == "UNAUTHENTICATED"


CREATE_KEY = "mutation($name: String!) { createApiKey(name: $name) { key apiKey { id } } }"


async def test_a_key_revoked_through_one_process_closes_its_socket_on_another_within_a_second(
    replicas: Replicas,
) -> None:
    tenant = replicas.tenant
    async with httpx.AsyncClient(base_url=replicas.first) as client:
        api = Api(client)
        created = (await api.data(CREATE_KEY, {"name": "ci"}, token=tenant.api_key))["createApiKey"]
        socket = await GraphQLSocket.open(ws_url(replicas.second), created["key"])
        await socket.acknowledged()
        await socket.subscribe("subscription { deliveryStatus { id } }")

        revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { id } }"
        await api.data(revoke, {"id": created["apiKey"]["id"]}, token=tenant.api_key)

        assert await socket.close_frame(timeout=1) == (4401, "API key revoked")


async def test_a_role_changed_through_one_process_applies_to_a_socket_on_another_within_a_second(
    replicas: Replicas,
) -> None:
    tenant = replicas.tenant
    async with httpx.AsyncClient(base_url=replicas.first) as client:
        api = Api(client)
        admin = await make_user(api, tenant, role="ADMIN")
        socket = await GraphQLSocket.open(ws_url(replicas.second), admin.token)
        await socket.acknowledged()
        assert await api_keys_code(socket) is None

        demote = {"input": {"externalId": admin.external_id, "role": "MEMBER"}}
        await api.data(UPSERT_USER, demote, token=tenant.api_key)

        assert await within_a_second(lambda: api_keys_code(socket), "FORBIDDEN")
        await socket.close()


async def test_upsert_user_from_the_command_line_changes_the_role_on_a_servers_socket(
    replicas: Replicas,
) -> None:
    tenant = replicas.tenant
    async with httpx.AsyncClient(base_url=replicas.first) as client:
        admin = await make_user(Api(client), tenant, role="ADMIN")
        socket = await GraphQLSocket.open(ws_url(replicas.first), admin.token)
        await socket.acknowledged()

        command = ["upsert-user", tenant.tenant_id, admin.external_id, "--role", "MEMBER"]
        subprocess.run([sys.executable, "-m", "app.cli", *command], env=replicas.env, check=True)

        assert await within_a_second(lambda: api_keys_code(socket), "FORBIDDEN")
        await socket.close()


async def api_keys_code(socket: GraphQLSocket) -> str | None:
    """Runs apiKeys over the socket: None when it answers, else the error's code."""
    op = await socket.subscribe("{ apiKeys { id } }")
    message = await socket.result()
    assert message["id"] == op and message["type"] == "next", message
    assert (await socket.result())["type"] == "complete"
    errors = message["payload"].get("errors")
    return None if not errors else str(errors[0]["extensions"]["code"])


async def within_a_second(attempt: Callable[[], Awaitable[object]], expected: object) -> bool:
    deadline = time.monotonic() + 1
    while await attempt() != expected:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def test_belfry_demo_is_refused_in_production(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}",
        "BELFRY_ENVIRONMENT": "production",
        "BELFRY_SECRET_KEY": "a real secret",
    }
    command = [sys.executable, "-m", "app.cli", "demo", "--no-migrate"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 2 and "refused in production" in result.stderr


def test_belfry_demo_serves_its_page_and_prints_the_address(tmp_path: Path) -> None:
    # Given `belfry demo` started on a free port
    port = free_port()
    env = {**os.environ, "BELFRY_DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}"}
    env.pop("BELFRY_DEMO", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        # Then it prints the demo page's address, and the server it runs has the demo's routes
        assert process.stdout is not None
        printed = next((line for line in process.stdout if line.startswith("Demo inbox")), "")
        address = f"http://127.0.0.1:{port}/demo"
        assert printed == f"Demo inbox: {address}\n"
        asyncio.run(until_serving(f"http://127.0.0.1:{port}", process, "/demo"))
        page = httpx.get(address, timeout=10)
        token = httpx.post(f"{address}/token", timeout=5).json()["token"]
        assert page.status_code == 200 and "<belfry-inbox" in page.text and token
    finally:
        process.terminate()
        process.wait(timeout=10)
