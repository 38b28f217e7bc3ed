"""Belfry's take on Strawberry's scalars, where the stock one lets through input that fails
later, deep in a query, as an unexpected error."""

from dataclasses import replace
from datetime import UTC, datetime

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition


def parse_date_time(value: object) -> datetime:
    """An ISO date-time as Strawberry reads it, in UTC; one without an offset is UTC already
    (as the database connection took it, with a warning). One whose UTC time falls outside
    years 1-9999 (0001-01-01T00:00:00+05:00, say) is refused here: no database could compare
    with it, and converting it overflows (in Python and in asyncpg)."""
    parse_iso = DateTimeDefinition.parse_value
    assert parse_iso is not None  # Strawberry's DateTime always has one
    parsed: datetime = parse_iso(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise StrawberryInputCoercionError(
            f'Value cannot represent a DateTime: "{value}". In UTC it falls outside years 1-9999.'
        ) from None


# The same name and description: the schema clients see does not change.
DATE_TIME: ScalarDefinition = replace(DateTimeDefinition, parse_value=parse_date_time)
