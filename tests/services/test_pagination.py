"""Keyset cursors: what encode_cursor writes reads back; anything else is an invalid cursor."""

import base64
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from app.errors import BadUserInput
from app.services.pagination import decode_cursor, encode_cursor

ID = UUID("7f8a3c1e-0000-4000-8000-000000000001")


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_cursor_reads_back_as_the_instant_it_was_written_from() -> None:
    # given a cursor written from a time at some offset
    created_at = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    id = uuid4()

    # when it is read, then it names the same instant, in UTC
    assert decode_cursor(encode_cursor(created_at, id)) == (0, created_at.astimezone(UTC), id)
    assert decode_cursor(encode_cursor(created_at, id, 3), with_priority=True) == (
        3,
        created_at.astimezone(UTC),
        id,
    )


@pytest.mark.parametrize(
    "text",
    [
        f"0001-01-01T00:00:00+05:00|{ID}",  # before year 1 in UTC
        f"9999-12-31T23:59:59-05:00|{ID}",  # after year 9999 in UTC
        f"2024-05-01T12:00:00|{ID}",  # no offset: not one Belfry wrote
        "2024-05-01T12:00:00+00:00|not-a-uuid",
    ],
)
def test_a_forged_cursor_is_bad_user_input(text: str) -> None:
    # given a cursor Belfry did not write; when it is read, then it is refused as invalid
    with pytest.raises(BadUserInput) as refused:
        decode_cursor(forged(text))
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "after"}
