"""Quiet hours: when a user does not want email, SMS or chat. Deliveries on the channels whose
providers say so (held_by_quiet_hours) that fall inside are held until the quiet hours end;
in-app notifications still arrive, marked quiet so that a client can skip the sound. Critical
categories and URGENT notifications go through. Local times follow the timezone database,
daylight-saving changes included."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.exceptions import IntegrityError

from app.db import as_uuid, batches, connection, is_in, model_meta
from app.delivery.providers import channels_where
from app.errors import BadUserInput
from app.models import QuietHours
from app.services.validation import check_length

HELD_CHANNELS = channels_where(lambda provider: provider.held_by_quiet_hours)
EVERY_DAY = tuple(range(1, 8))  # ISO weekdays, 1 is Monday
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
MAX_TIMEZONE = 64  # what the column holds


@dataclass(frozen=True, slots=True)
class Window:
    """One user's quiet hours, ready to ask."""

    start: time
    end: time
    zone: ZoneInfo
    days: frozenset[int]

    def release(self, now: datetime) -> datetime | None:
        """When the quiet hours that `now` falls in end; None when `now` is outside them.
        Quiet hours belong to the day they start on: 22:00 to 07:00 on a Friday runs into
        Saturday morning."""
        today = now.astimezone(self.zone).date()
        for day in (today - timedelta(days=1), today):
            if day.isoweekday() not in self.days:
                continue
            begins, ends = self._span(day)
            if begins <= now < ends:
                return ends.astimezone(UTC)
        return None

    def _span(self, day: date) -> tuple[datetime, datetime]:
        last_day = day if self.end > self.start else day + timedelta(days=1)
        return (
            datetime.combine(day, self.start, tzinfo=self.zone),
            datetime.combine(last_day, self.end, tzinfo=self.zone),
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """As a user set them; `timezone` None follows the user's own."""

    start: str
    end: str
    timezone: str | None
    days: tuple[int, ...]
    enabled: bool

    def validate(self) -> None:
        for field, value in (("start", self.start), ("end", self.end)):
            if not _CLOCK.fullmatch(value):
                raise BadUserInput(f'{field} must be a local time such as "22:00"', field=field)
        if self.start == self.end:
            raise BadUserInput("start and end must differ", field="end")
        if self.timezone is not None:
            check_length("timezone", self.timezone, MAX_TIMEZONE)
            if zone_of(self.timezone) is None:
                raise BadUserInput(f"Unknown timezone {self.timezone!r}", field="timezone")
        if not self.days or any(d not in EVERY_DAY for d in self.days):
            raise BadUserInput("days must name at least one weekday", field="days")


def zone_of(name: str | None) -> ZoneInfo | None:
    """The zone a name stands for, None where it stands for none. A name is a path into the
    timezone database: one that names a folder, or is too long for a file name, fails as
    the file system does (OSError)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def followed(timezone: str | None, user_timezone: str | None) -> ZoneInfo:
    """The zone quiet hours follow: their own, else the user's, else UTC. A user's own
    timezone may be anything a host application stored: UTC where it is not a name the
    timezone database knows."""
    return zone_of(timezone) or zone_of(user_timezone) or ZoneInfo("UTC")


def window(settings: Settings, user_timezone: str | None) -> Window:
    return Window(
        start=time.fromisoformat(settings.start),
        end=time.fromisoformat(settings.end),
        zone=followed(settings.timezone, user_timezone),
        days=frozenset(settings.days),
    )


async def get(user_id: UUID) -> QuietHours | None:
    return await QuietHours.get_or_none(user_id=user_id)


async def update(user_id: UUID, settings: Settings) -> QuietHours:
    settings.validate()
    values: dict[str, Any] = {
        "start": settings.start,
        "end": settings.end,
        "timezone": settings.timezone,
        "days": sorted(set(settings.days)),
        "enabled": settings.enabled,
    }
    for attempt in range(2):
        if (found := await get(user_id)) is not None:
            await found.update_from_dict(values).save()
            return found
        try:
            return await QuietHours.create(user_id=user_id, **values)
        except IntegrityError:  # a concurrent first update won: update that one
            if attempt:
                raise
    raise AssertionError("unreachable")


async def releases(user_ids: list[UUID], now: datetime) -> dict[UUID, datetime]:
    """The recipients inside their quiet hours at `now`, each with when those end. Plain SQL,
    as for the other reads every publish makes."""
    conn = connection()
    found: dict[UUID, datetime] = {}
    for batch in batches(conn, [str(u) for u in user_ids]):
        condition, values = is_in(conn, "q.user_id", batch)
        rows = await conn.execute_query_dict(
            'SELECT q.user_id, q.start, q."end", q.timezone, q.days, u.timezone AS own '
            f"FROM quiet_hours q JOIN users u ON u.id = q.user_id WHERE {condition} "
            "AND q.enabled",
            values,
        )
        for row in rows:
            days = model_meta(QuietHours).fields_map["days"].to_python_value(row["days"])
            settings = Settings(row["start"], row["end"], row["timezone"], tuple(days), True)
            if (ends := window(settings, row["own"]).release(now)) is not None:
                found[as_uuid(row["user_id"])] = ends
    return found
