"""Schedules are entered in the host's time zone and shown in each viewer's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from liveloop.kit.errors import field_error
from liveloop.live.errors import InvalidSchedule

MAX_DURATION = timedelta(hours=12)
MAX_AHEAD = timedelta(days=90)


def local_to_utc(local: datetime, time_zone: str, *, field: str) -> datetime:
    """A wall-clock time in `time_zone` as UTC; a time that does not exist there (skipped by a
    daylight-saving change) is refused rather than silently shifted."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    zone = ZoneInfo(time_zone)
    aware = local.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise InvalidSchedule(
            f"{local:%Y-%m-%d %H:%M} does not exist in {time_zone} (clocks change then).",
            errors=[field_error(field, "time skipped by a clock change", code="nonexistent_time")],
        )
    return aware.astimezone(UTC)


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise InvalidSchedule(
            "The session must end after it starts.",
            errors=[field_error("end_local", "must be after the start", code="before_start")],
        )
    if end - start > MAX_DURATION:
        raise InvalidSchedule(
            "A session lasts at most 12 hours.",
            errors=[field_error("end_local", "longer than 12 hours", code="too_long")],
        )
    if start < now - timedelta(minutes=5):
        raise InvalidSchedule(
            "The start is in the past.",
            errors=[field_error("start_local", "in the past", code="in_past")],
        )
    if start > now + MAX_AHEAD:
        raise InvalidSchedule(
            "Sessions are scheduled at most 90 days ahead.",
            errors=[field_error("start_local", "more than 90 days ahead", code="too_far")],
        )


@dataclass(frozen=True)
class LocalTime:
    time_zone: str
    iso: str
    display: str


def in_zone(moment: datetime, time_zone: str, locale: str) -> LocalTime:
    local = moment.astimezone(ZoneInfo(time_zone))
    return LocalTime(
        time_zone=time_zone,
        iso=local.isoformat(),
        display=str(format_datetime(local, "EEE d MMM, HH:mm zzz", locale=locale)),
    )
