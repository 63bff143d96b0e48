"""Wall-clock schedules in the host's zone, converted to UTC without silent shifts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from liveloop.live.errors import InvalidSchedule
from liveloop.live.schedule import in_zone, local_to_utc


def test_guangzhou_small_hours_are_london_evening() -> None:
    start = local_to_utc(datetime(2026, 11, 24, 1, 0), "Asia/Shanghai", field="start_local")
    assert start == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    london = in_zone(start, "Europe/London", "en_GB")
    assert london.iso == "2026-11-23T17:00:00+00:00"
    assert london.display == "Mon 23 Nov, 17:00 GMT"
    summer = local_to_utc(datetime(2027, 6, 10, 2, 0), "Asia/Shanghai", field="start_local")
    assert in_zone(summer, "Europe/London", "en_GB").iso == "2027-06-09T19:00:00+01:00"


def test_a_time_skipped_by_the_clock_change_is_refused() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        local_to_utc(datetime(2027, 3, 28, 1, 30), "Europe/London", field="start_local")
    assert caught.value.errors == [
        {
            "field": "start_local",
            "message": "time skipped by a clock change",
            "code": "nonexistent_time",
        }
    ]


def test_an_ambiguous_autumn_time_takes_the_first_occurrence() -> None:
    # 01:30 happens twice in London on 2026-10-25; the first is still summer time (BST).
    assert local_to_utc(datetime(2026, 10, 25, 1, 30), "Europe/London", field="x") == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
