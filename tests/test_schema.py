from pathlib import Path

from app.cli import schema_sdl

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "schema.graphql is stale: run `uv run belfry export-schema` and commit it"
    )
