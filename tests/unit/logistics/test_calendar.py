"""Working-day calendars from weekends, public holidays and make-up working days."""

from __future__ import annotations

from datetime import date

import pytest

from liveloop.logistics.calendar import WorkingCalendar, calendar_for


def test_british_christmas_and_the_observed_boxing_day() -> None:
    britain = calendar_for("GB")
    assert britain.holiday(date(2026, 12, 28)) == "Boxing Day (observed)"
    assert [britain.is_working_day(date(2026, 12, d)) for d in range(24, 30)] == [
        True,  # Thu 24
        False,  # Christmas Day
        False,  # Saturday, Boxing Day
        False,  # Sunday
        False,  # Boxing Day observed
        True,  # Tue 29
    ]
    assert britain.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert britain.add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 29)
    assert britain.add_working_days(date(2026, 12, 24), 0) == date(2026, 12, 24)


def test_a_six_day_chinese_warehouse_over_the_spring_festival() -> None:
    guangzhou = WorkingCalendar("CN", working_weekdays=range(6))
    working = {d: guangzhou.is_working_day(date(2026, 2, d)) for d in range(13, 25)}
    assert [d for d, open_ in working.items() if open_] == [13, 14, 21, 24]
    assert guangzhou.next_working_day(date(2026, 2, 15)) == date(2026, 2, 21)


def test_make_up_working_days_fall_on_weekends() -> None:
    # 2026-02-28 is a Saturday that China works to make up for the Spring Festival.
    five_day = WorkingCalendar("CN", working_weekdays=range(5))
    assert five_day.is_working_day(date(2026, 2, 28)) is True
    assert five_day.is_working_day(date(2026, 3, 7)) is False


def test_a_country_the_holidays_package_does_not_know_keeps_its_weekend() -> None:
    nowhere = WorkingCalendar("XX")
    assert nowhere.holiday(date(2026, 12, 25)) is None
    assert nowhere.is_working_day(date(2026, 12, 25)) is True
    assert nowhere.is_working_day(date(2026, 12, 26)) is False


def test_counting_backwards_or_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="forward only"):
        calendar_for("GB").add_working_days(date(2026, 1, 5), -1)
    with pytest.raises(ValueError, match="at least one working weekday"):
        WorkingCalendar("GB", working_weekdays=())
