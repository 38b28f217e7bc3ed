"""The README, run as written: every command of its shell blocks, in order, in one shell,
against a real `belfry demo`, each answer compared with the one the README shows after it.

A README command is followed by its answer on `# =>` lines (and comment lines after them that
are indented). JSON answers are compared as JSON, where "..." stands for any value and a string
ending in "..." for any string that starts so ("bfk_..."); other answers are compared line by
line, as far as the README shows them. A command shown without an answer must print nothing.
Run with `-s` to see the transcript: each command, then what it answered."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PATIENCE, free_port, unavailable
from tests.processes import until_serving

README = Path(__file__).resolve().parent.parent / "README.md"
ANSWER = "# =>"
ANY = "..."

# Commands of the README that the test does not run, each with its reason.
NOT_RUN = {
    "uv run belfry demo": "the demo is what the commands run against: the test started it",
    "uv run belfry serve": "the demo serves already, and a second server would share its SQLite",
    "uv run belfry worker": "runs until stopped, and the demo's server runs the jobs itself",
    "uv run pytest": "the test suite itself",
    "uv run ruff": "CI's lint and type checks, minutes long",
    "uv run tortoise makemigrations": "writes into migrations/; tests/test_migrations.py checks it",
    "docker compose": "no Docker engine where the tests run",
    "uv run python -m bench": "the benchmarks take minutes each",
}
# What a reader fills in by hand, and what the test fills in instead.
CREDENTIALS = "KEY=bfk_...; TOKEN=eyJ..."
README_SERVER = "http://127.0.0.1:8000"
# A stream runs until stopped: the test stops it after this many seconds (curl exits with 28)
# and compares what came first. The first event comes at once; the bound is for a slow host.
STREAM_SECONDS = 10
CURL_TIMED_OUT = 28


@dataclass(frozen=True, slots=True)
class Command:
    text: str
    answer: str | None  # as the README shows it, without the comment marks
    line: int  # where the command starts in the README


@dataclass(frozen=True, slots=True)
class Demo:
    url: str
    tenant_id: str
    api_key: str
    token: str
    env: dict[str, str]  # of the demo's process, for commands that use its database


@dataclass(frozen=True, slots=True)
class Ran:
    command: Command
    script: str  # the command as it ran, with the demo's values filled in
    rc: int
    out: str
    err: str


# --- reading the README ---------------------------------------------------------------------


def readme_commands(text: str) -> list[Command]:
    """Every command of the README's ```sh blocks, in order, each with the answer shown after
    it."""
    commands: list[Command] = []
    lines = text.splitlines()
    for start, block in _sh_blocks(lines):
        commands += _commands(block, start)
    return commands


def _sh_blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    inside: list[str] | None = None
    start = 0
    for number, line in enumerate(lines, 1):
        if inside is None and line.strip() == "```sh":
            inside, start = [], number + 1
        elif inside is not None and line.strip() == "```":
            yield start, inside
            inside = None
        elif inside is not None:
            inside.append(line)


def _commands(block: list[str], start: int) -> Iterator[Command]:
    """The block's commands: a command ends with the line that leaves no quote, brace or
    parenthesis open and no continuation pending; its answer is on the `# =>` lines after it."""
    pending: list[str] = []
    scanner = _Scanner()
    done: tuple[list[str], int] | None = None
    answer: list[str] | None = None
    for offset, line in enumerate(block):
        if not pending and line.startswith(ANSWER) and done is not None:
            answer = [line.removeprefix(ANSWER)]
        elif not pending and answer is not None and re.match(r"#(\s\s|$)", line):
            answer.append(line[1:])
        elif not pending and line.lstrip().startswith("#"):
            continue  # a comment of its own
        else:
            if done is not None:
                yield _command(done, answer)
                done, answer = None, None
            if not pending and not line.strip():
                continue
            pending.append(line)
            if scanner.complete_after(line):
                done, pending = (pending, start + offset - len(pending) + 1), []
    assert not pending, f"README line {start}: a command is left open: {pending}"
    if done is not None:
        yield _command(done, answer)


def _command(done: tuple[list[str], int], answer: list[str] | None) -> Command:
    lines, line = done
    shown = None if answer is None else "\n".join(a.strip() for a in answer).strip()
    return Command("\n".join(lines), shown, line)


class _Scanner:
    """Enough of the shell's quoting to tell where a command ends."""

    def __init__(self) -> None:
        self.quote: str | None = None
        self.depth = 0

    def complete_after(self, line: str) -> bool:
        escaped = False
        code = line
        for i, char in enumerate(line):
            if escaped:
                escaped = False
            elif char == "\\" and self.quote != "'":
                escaped = True
            elif self.quote is not None:
                if char == self.quote:
                    self.quote = None
            elif char in "'\"":
                self.quote = char
            elif char == "#" and (i == 0 or line[i - 1].isspace()):
                code = line[:i]
                break
            elif char in "{(":
                self.depth += 1
            elif char in "})":
                self.depth -= 1
        continued = escaped or code.rstrip().endswith(("|", "&&", "||", "\\"))
        return self.quote is None and self.depth == 0 and not continued


# --- comparing answers ----------------------------------------------------------------------


def matches(expected: Any, actual: Any) -> bool:
    if expected == ANY:
        return True
    if isinstance(expected, str) and expected.endswith(ANY):
        return isinstance(actual, str) and actual.startswith(expected.removesuffix(ANY))
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(map(matches, expected, actual))
        )
    return type(expected) is type(actual) and bool(expected == actual)


def answered_as_shown(shown: str | None, out: str) -> bool:
    if shown is None:
        return out.strip() == ""
    try:
        answer = json.loads(out)
    except ValueError:  # a stream, say: the README shows the lines that matter
        return _in_order(shown.splitlines(), out.splitlines())
    try:
        return matches(json.loads(shown), answer)
    except ValueError:
        return False


def _in_order(shown: list[str], out: list[str]) -> bool:
    """Each line shown is among the output's lines, after the one before it; a line of JSON
    is compared as JSON."""
    lines = iter(out)
    return all(any(_same_line(expected, actual) for actual in lines) for expected in shown)


def _same_line(expected: str, actual: str) -> bool:
    try:
        return matches(json.loads(expected), json.loads(actual))
    except ValueError:
        return expected.strip() == actual.strip()


# --- running it -----------------------------------------------------------------------------


def not_run(command: Command) -> str | None:
    return next((why for start, why in NOT_RUN.items() if command.text.startswith(start)), None)


def filled_in(command: Command, demo: Demo) -> str:
    """The command as a reader runs it against this demo: its credentials, address and tenant
    in place of the README's."""
    text = command.text.replace(CREDENTIALS, f"KEY={demo.api_key}; TOKEN={demo.token}")
    text = text.replace(README_SERVER, demo.url)
    text = re.sub(r"\bTENANT_ID\b", demo.tenant_id, text)
    return text.replace("curl -N ", f"curl -N --max-time {STREAM_SECONDS} ")


def run_in_order(
    commands: list[Command], demo: Demo, workdir: Path, steps: Path
) -> list[Ran | str]:
    """Runs the commands in one bash in `workdir`, so that each sees what the ones before it
    set (KEY, the gql helper, ID); each one's output and status go to files of their own in
    `steps`."""
    script = [
        # `uv run` runs a command in the project's environment, which is the one the test runs
        # in: its executables come first on the PATH, and the command runs there directly.
        'uv() { if [ "$1" = run ]; then shift; fi; "$@"; }',
    ]
    plan: list[tuple[Command, str] | str] = []
    for i, command in enumerate(commands):
        why = not_run(command)
        if why is not None:
            plan.append(f"{command.text.splitlines()[0]}\n(not run: {why})")
            continue
        text = filled_in(command, demo)
        plan.append((command, text))
        script.append(f'{{\n{text}\n}} >"{steps}/{i}.out" 2>"{steps}/{i}.err"')
        script.append(f'echo $? >"{steps}/{i}.rc"')
    env = {**demo.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=workdir, env=env, timeout=PATIENCE, check=False
    )
    ran: list[Ran | str] = []
    for i, step in enumerate(plan):
        if isinstance(step, str):
            ran.append(step)
            continue
        command, text = step
        rc_file = steps / f"{i}.rc"
        rc = int(rc_file.read_text()) if rc_file.exists() else -1
        out, err = ((steps / f"{i}.{kind}").read_text() for kind in ("out", "err"))
        ran.append(Ran(command, text, rc, out, err))
    return ran


def transcript(ran: list[Ran | str]) -> str:
    parts = []
    for step in ran:
        if isinstance(step, str):
            parts.append(f"$ {step}")
        else:
            parts.append(f"$ {step.command.text}\n{step.out.rstrip()}".rstrip())
    return "\n\n".join(parts)


def start_demo(workdir: Path, log: Path) -> "tuple[subprocess.Popen[str], Demo]":
    port = free_port()
    env = {
        **os.environ,
        "BELFRY_DATABASE_URL": f"sqlite://{workdir / 'belfry.sqlite3'}",
        "BELFRY_DATA_DIR": str(workdir),
    }
    env.pop("BELFRY_DEMO", None)
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "demo", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert process.stdout is not None
    printed: dict[str, str] = {}
    for line in process.stdout:  # ends when the demo starts serving, or stops
        key, _, value = line.strip().partition(": ")
        printed[key] = value
        if key == "Demo inbox":
            break
    url = f"http://127.0.0.1:{port}"
    asyncio.run(until_serving(url, process, log=log))
    demo = Demo(url, printed["tenantId"], printed["apiKey"], printed["userToken"], env)
    return process, demo


def test_every_readme_command_answers_as_the_readme_shows(tmp_path: Path) -> None:
    # Given a fresh `belfry demo`, and the README's commands
    if shutil.which("curl") is None:
        unavailable("curl", FileNotFoundError("curl is not on the PATH"))
    text = README.read_text()
    assert CREDENTIALS in text, f"the walk-through no longer sets {CREDENTIALS!r}"
    commands = readme_commands(text)
    demo_dir, workdir, steps = tmp_path / "demo", tmp_path / "reader", tmp_path / "steps"
    for folder in (demo_dir, workdir, steps):
        folder.mkdir()
    process, demo = start_demo(demo_dir, tmp_path / "demo.log")
    try:
        # When they run in order, in one shell, as a reader pastes them
        ran = run_in_order(commands, demo, workdir, steps)
    finally:
        process.terminate()
        process.wait(timeout=PATIENCE)
        assert process.stdout is not None
        process.stdout.close()

    # Then each one answers as the README shows, and the transcript says what each answered
    shown = transcript(ran)
    (tmp_path / "readme-transcript.txt").write_text(shown)
    print(shown)
    for step in ran:
        if isinstance(step, str):
            continue
        streamed = "curl -N " in step.command.text and step.rc == CURL_TIMED_OUT
        if step.rc != 0 and not streamed:
            fail(step, f"exited with status {step.rc}, printing")
        if not answered_as_shown(step.command.answer, step.out):
            fail(step, "answered")


def fail(step: Ran, what: str) -> None:
    pytest.fail(
        f"README line {step.command.line}:\n{step.script}\n\n{what}:\n{step.out.strip()}\n\n"
        f"where the README shows:\n{step.command.answer}\n\nstderr:\n{step.err.strip()}",
        pytrace=False,
    )


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        ({"id": "...", "n": 1}, {"id": "x1", "n": 1}, True),
        ({"id": "...", "n": 1}, {"id": "x1", "n": 2}, False),
        ({"id": "..."}, {"id": "x1", "more": 1}, False),
        ({"key": "bfk_..."}, {"key": "bfk_abc"}, True),
        ({"key": "bfk_..."}, {"key": "sk_abc"}, False),
        (["..."], ["a", "b"], False),
        ("...", None, True),
        ({"flag": True}, {"flag": 1}, False),
    ],
)
def test_an_answer_matches_what_the_readme_shows_with_dots_for_any_value(
    expected: Any, actual: Any, same: bool
) -> None:
    # Given what the README shows, and an answer
    # When they are compared
    # Then dots stand for any value, and everything else must be equal
    assert matches(expected, actual) is same


def test_commands_end_where_the_shell_ends_them_and_keep_their_answers() -> None:
    # Given a block with a definition over several lines, a quoted query with line breaks, a
    # command without an answer and an answer over two lines
    block = [
        "f() { echo one |",
        "  cat; }",
        "gql $KEY '{ a {",
        "  b } }'",
        '# => {"data":',
        '#      {"a": "..."}}',
        "X=$(echo 'x # not a comment')  # a comment",
    ]

    # When the block is read
    commands = list(_commands(block, 10))

    # Then there are three commands, each with the answer shown after it
    assert [(c.text.splitlines()[0], c.answer, c.line) for c in commands] == [
        ("f() { echo one |", None, 10),
        ("gql $KEY '{ a {", '{"data":\n{"a": "..."}}', 12),
        ("X=$(echo 'x # not a comment')  # a comment", None, 16),
    ]
