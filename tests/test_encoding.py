"""JSON for live batches and websocket frames."""

import json
import uuid
from datetime import UTC, datetime

from app.encoding import dumps
from app.live.messages import ActionPayload
from app.models import Channel


def test_ids_times_and_enums_are_written_as_the_api_shows_them() -> None:
    an_id = uuid.uuid4()
    at = datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC)

    text = dumps({"id": an_id, "at": at, "channel": Channel.EMAIL, "n": [1, None, "é"]})

    assert json.loads(text) == {
        "id": str(an_id),
        "at": at.isoformat(),
        "channel": "EMAIL",
        "n": [1, None, "é"],
    }
    assert " " not in text  # compact


def test_integers_beyond_64_bits_are_written_exactly() -> None:
    huge = 2**70 + 1

    text = dumps({"data": {"big": huge}, "id": uuid.UUID(int=1)})

    assert json.loads(text) == {"data": {"big": huge}, "id": str(uuid.UUID(int=1))}


def test_subclasses_of_the_types_it_knows_are_written_too() -> None:
    class DriverUUID(uuid.UUID):  # asyncpg returns one of these
        pass

    an_id = DriverUUID(int=7)

    assert json.loads(dumps([an_id])) == [str(uuid.UUID(int=7))]


def test_a_button_is_written_as_its_json_object_beside_integers_beyond_64_bits() -> None:
    # Given a live notification's button, in a batch whose data orjson refuses
    action = ActionPayload(id="top-up", label="Top up", url="/billing", primary=True)

    # When it is written
    text = dumps({"actions": [action], "data": {"big": 2**70}})

    # Then it is the object the API stores and shows
    assert json.loads(text)["actions"] == [
        {"id": "top-up", "label": "Top up", "url": "/billing", "primary": True}
    ]
