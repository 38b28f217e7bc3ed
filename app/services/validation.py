"""Input checks shared by several services; each raises BadUserInput naming the field."""

import re
from uuid import UUID

from app.errors import BadUserInput

CATEGORY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


def check_length(field: str, value: str, limit: int, *, required: bool = False) -> None:
    if required and not value.strip():
        raise BadUserInput(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise BadUserInput(f"{field} must be at most {limit} characters", field=field)


def check_external_id(external_id: str, field: str = "externalId") -> None:
    check_length(field, external_id, 200, required=True)


def check_category(category: str, field: str = "category") -> None:
    if not CATEGORY_PATTERN.match(category):
        raise BadUserInput(
            f"{field} {category!r} must be 1-100 letters, digits, '.', '_', ':' or '-'",
            field=field,
        )


def parse_uuid(value: str) -> UUID | None:
    """Ids from clients are opaque strings; anything that is not a UUID names nothing."""
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
