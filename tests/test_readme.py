"""The README's walk-through, run as written against a live server: every shell command in it
gets an answer without errors."""

import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.helpers import Api, make_tenant, make_user, publish

README = Path(__file__).resolve().parent.parent / "README.md"


def walkthrough_commands() -> str:
    """The shell blocks of the README's "A walk through the API" that use its `gql` helper,
    in order (the others stream, or need more than a server)."""
    text = README.read_text()
    section = text.split("## A walk through the API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return "\n".join(block for block in blocks if "gql" in block)


async def test_the_walkthrough_runs_as_written(server: LiveServer, live_api: Api) -> None:
    # Given the demo's credentials and a notification to mark read
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    tenant = await make_tenant()
    user = await make_user(live_api, tenant, "demo-user")
    notification_id = (await publish(live_api, tenant, ["demo-user"]))["notificationIds"][0]
    script = (
        walkthrough_commands()
        .replace("KEY=bfk_...; TOKEN=eyJ...", f"KEY={tenant.api_key}; TOKEN={user.token}")
        .replace("http://127.0.0.1:8000", server.http_url)
        .replace("<id>", notification_id)
    )

    # When the commands run in a shell
    process = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)

    # Then each gql call got data and no errors
    answers = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert process.returncode == 0
    assert len(answers) == script.count("\ngql ") and answers
    assert all("errors" not in answer and answer["data"] for answer in answers), answers
