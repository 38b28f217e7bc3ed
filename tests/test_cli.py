"""The `belfry` command as scripts drive it: a real process, a real SQLite file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jwt


def belfry(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BELFRY_DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


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

    assert tenant["apiKey"].startswith("bfk_") and tenant["tenantId"]
    assert user == {"userId": user["userId"], "externalId": "u1", "role": "ADMIN"}
    claims = jwt.decode(token["token"], tenant["signingSecret"], algorithms=["HS256"])
    assert claims["sub"] == "u1" and claims["tid"] == tenant["tenantId"]
    assert key["apiKey"].startswith("bfk_") and key["apiKey"] != tenant["apiKey"]


def test_admin_errors_exit_non_zero_with_a_message(tmp_path: Path) -> None:
    belfry(tmp_path, "migrate")

    result = belfry(tmp_path, "issue-token", "00000000-0000-0000-0000-000000000000", "nobody")

    assert result.returncode == 2 and "error:" in result.stderr


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"

    assert belfry(tmp_path, "export-schema", "--output", str(out)).returncode == 0

    assert "type Query" in out.read_text() and "publishNotification" in out.read_text()


def test_a_malformed_tenant_id_is_a_clear_error(tmp_path: Path) -> None:
    belfry(tmp_path, "migrate")

    result = belfry(tmp_path, "create-api-key", "not-a-uuid")

    assert result.returncode == 2 and "No tenant not-a-uuid" in result.stderr
