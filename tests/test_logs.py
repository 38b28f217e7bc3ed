"""Log lines as an operator reads them, from real `belfry` processes: one format for every
logger, the level for every logger, the request id carried from an HTTP request to the
worker's line about the delivery it queued, and no token or message body at INFO; and the
two settings that shape them."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from websockets.asyncio.client import connect

from app.logs import ContextFilter, TextLines, fields
from app.settings import Settings
from tests.delivery.helpers import Receiver
from tests.delivery.test_worker import CATEGORY, TENANT_PREF, UPDATE_CHANNEL
from tests.helpers import Api, make_user
from tests.processes import eventually, server_process

JSON_LINES = {"BELFRY_LOG_FORMAT": "json"}
TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: \S"
)
PUBLISH = """
mutation Publish($input: PublishNotificationInput!) { publishNotification(input: $input) { count } }
"""


def lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a log as JSON: one that is not fails the test."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_the_request_id_goes_from_the_request_to_the_workers_delivery_line(
    tmp_path: Path, receiver: Receiver
) -> None:
    # Given a server and a separate worker, both logging JSON, and a tenant with a webhook
    env = {
        **JSON_LINES,
        "BELFRY_EMBEDDED_JOBS": "false",
        "BELFRY_ALLOW_PRIVATE_TARGETS": "true",
        "BELFRY_DELIVERY_POLL_SECONDS": "0.1",
    }
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    async with (
        server_process(tmp_path, env, stderr=server_log) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        api, key = Api(http), server.tenant.api_key
        hook = {"enabled": True, "config": {"url": f"{receiver.url}/hook"}}
        await api.data(UPDATE_CHANNEL, {"channel": "WEBHOOK", "input": hook}, token=key)
        await api.data(TENANT_PREF, {"input": {"category": CATEGORY, "webhook": True}}, token=key)
        await make_user(api, server.tenant, "alice")

        # When a publish comes with a request id and the worker sends what it queued
        variables = {
            "input": {
                "recipients": ["alice"],
                "category": CATEGORY,
                "title": "Calls",
                "body": "the-private-body",
            }
        }
        response = await http.post(
            "/graphql",
            json={"query": PUBLISH, "variables": variables},
            headers={"authorization": f"Bearer {key}", "X-Request-ID": "trace-me-42"},
        )
        with worker_log.open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker"], env=server.env, stderr=log
            )
            try:
                await eventually(lambda: receiver.requests, "the webhook was called")
                await eventually(
                    lambda: "belfry.delivery" in worker_log.read_text(), "a delivery line"
                )
            finally:
                worker.terminate()
                worker.wait(timeout=30)

    # Then the worker's line about that delivery carries the request's id, and the server's
    # access line the id, the tenant and the operation; neither holds the key or the body
    assert response.headers["x-request-id"] == "trace-me-42"
    [sent] = [line for line in lines(worker_log) if line["logger"] == "belfry.delivery"]
    assert sent["request_id"] == "trace-me-42"
    assert sent["tenant_id"] == server.tenant.tenant_id
    assert sent["delivery_id"] == receiver.only.headers["webhook-id"]
    assert (sent["level"], sent["channel"], sent["status"], sent["attempt"]) == (
        "INFO",
        "WEBHOOK",
        "SENT",
        1,
    )
    [access] = [
        line
        for line in lines(server_log)
        if line["logger"] == "uvicorn.access" and line.get("request_id") == "trace-me-42"
    ]
    assert access["operation"] == "Publish" and access["tenant_id"] == server.tenant.tenant_id
    assert (access["method"], access["path"], access["status_code"]) == ("POST", "/graphql", 200)
    # and at INFO every logger writes in the one format (each line parsed as JSON)
    assert {"tortoise", "uvicorn.error", "uvicorn.access"} <= {
        x["logger"] for x in lines(server_log)
    }
    for log_file in (server_log, worker_log):
        assert key not in log_file.read_text()
        assert "the-private-body" not in log_file.read_text()


async def test_the_log_level_governs_every_logger(tmp_path: Path) -> None:
    # Given a server started at WARNING, written in any case (INFO is in the test above)
    log = tmp_path / "server.log"
    env = {**JSON_LINES, "BELFRY_LOG_LEVEL": "WARNING"}
    async with server_process(tmp_path, env, stderr=log) as server:
        # When it serves a request and stops
        async with httpx.AsyncClient(base_url=server.url) as http:
            await http.get("/healthz")
        server.process.terminate()
        server.process.wait(timeout=30)

    # Then nothing below it is written, from Tortoise and uvicorn alike
    written = lines(log)
    assert all(logging.getLevelNamesMapping()[line["level"]] >= logging.WARNING for line in written)
    assert not any(line["logger"].startswith(("tortoise", "uvicorn")) for line in written)


async def test_no_token_reaches_the_log(tmp_path: Path) -> None:
    # Given a server logging JSON
    log = tmp_path / "server.log"
    async with server_process(tmp_path, JSON_LINES, stderr=log) as server:
        # When tokens come in a header, a query string and a websocket's URL
        async with httpx.AsyncClient(base_url=server.url) as http:
            await http.get(
                "/graphql",
                params={"query": "{ viewer { id } }", "token": "query-s3cret"},
                headers={"authorization": "Bearer header-s3cret", "X-Request-ID": "tokens-1"},
            )
        async with connect(
            f"{server.ws_url}?token=socket-s3cret",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        ):
            pass
        server.process.terminate()
        server.process.wait(timeout=30)

    # Then the request is logged, by path, without any of them
    text = log.read_text()
    [access] = [line for line in lines(log) if line.get("request_id") == "tokens-1"]
    assert access["path"] == "/graphql" and "?" not in access["message"]
    assert any(
        line.get("path") == "/graphql" and "WebSocket" in line["message"] for line in lines(log)
    )
    assert not re.search(r"(query|header|socket)-s3cret", text)


async def test_text_lines_are_readable(tmp_path: Path) -> None:
    # Given text logs, when a real command logs (Tortoise's lines on migrating)
    database = f"sqlite://{tmp_path / 'belfry.sqlite3'}"
    env = {"BELFRY_LOG_FORMAT": "text", "BELFRY_DATABASE_URL": database}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )

    # Then each line starts with its time, level and logger
    written = result.stderr.splitlines()
    assert written and all(TEXT_LINE.match(line) for line in written), written


def test_text_lines_end_with_the_fields_known() -> None:
    record = logging.LogRecord("belfry.test", logging.INFO, __file__, 1, "sent %s", ("x",), None)

    with fields(request_id="r-1", tenant_id="t-1"):
        ContextFilter().filter(record)
    line = TextLines().format(record)

    assert TEXT_LINE.match(line)
    assert line.endswith("INFO belfry.test: sent x request_id=r-1 tenant_id=t-1")


def test_log_level_and_format_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELFRY_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("BELFRY_LOG_FORMAT", "Json")

    settings = Settings(_env_file=None)

    assert (settings.log_level, settings.log_format) == ("warning", "json")


@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "loud"), ("LOG_FORMAT", "xml")])
def test_an_unknown_log_level_or_format_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"BELFRY_{name}", value)

    with pytest.raises(ValidationError, match=name.lower()):
        Settings(_env_file=None)
