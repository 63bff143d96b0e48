"""Working-day calendars: weekends, public holidays and make-up working days, per country.

Public holidays come from the `holidays` package (offline, updated with each release); a
country it does not know falls back to its weekend alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays
from holidays import HolidayBase

_MONDAY_TO_FRIDAY = frozenset(range(5))
# Far more than any real run of closed days (Chinese New Year, Golden Week): a guard against a
# calendar with no working day at all, which would otherwise loop for ever.
_LONGEST_CLOSURE = 60


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None) -> HolidayBase | None:
    try:
        return holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        return None


class WorkingCalendar:
    """Which days a warehouse works, or a carrier delivers, in one country."""

    def __init__(
        self,
        country: str,
        *,
        working_weekdays: Iterable[int] | None = None,
        subdivision: str | None = None,
    ) -> None:
        self.country = country
        self._holidays = _public_holidays(country, subdivision)
        if working_weekdays is not None:
            self.working_weekdays = frozenset(working_weekdays)
        elif self._holidays is not None:
            self.working_weekdays = frozenset(range(7)) - frozenset(self._holidays.weekend)
        else:
            self.working_weekdays = _MONDAY_TO_FRIDAY
        if not self.working_weekdays:
            raise ValueError("a calendar needs at least one working weekday")

    def holiday(self, day: date) -> str | None:
        """The public holiday's name on `day`, if it is one."""
        if self._holidays is None:
            return None
        return self._holidays.get(day)

    def is_working_day(self, day: date) -> bool:
        if self.holiday(day) is not None:
            return False
        # Countries such as China move working days onto weekends around long holidays.
        if self._holidays is not None and day in self._holidays.weekend_workdays:
            return True
        return day.weekday() in self.working_weekdays

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first one after it."""
        for offset in range(_LONGEST_CLOSURE):
            candidate = day + timedelta(offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(
            f"no working day in {self.country} within {_LONGEST_CLOSURE} days of {day}"
        )

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day`; with 0, `day` or the next working day."""
        if count < 0:
            raise ValueError("count working days forward only")
        current = self.next_working_day(day) if count == 0 else day
        for _ in range(count):
            current = self.next_working_day(current + timedelta(1))
        return current


@lru_cache(maxsize=64)
def calendar_for(country: str, working_weekdays: tuple[int, ...] | None = None) -> WorkingCalendar:
    """A shared calendar for a country (and a warehouse's own working weekdays)."""
    return WorkingCalendar(country, working_weekdays=working_weekdays)
