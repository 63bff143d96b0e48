"""Where a wall-clock moment of the stream falls in the replay, across reconnects."""

from __future__ import annotations

from liveloop.media.replay import Part, offset_in_replay

# two connections: 10 s from t=100 000, then (after a 5 s drop) 20 s from t=115 000
PARTS = [Part(100_000, 0, 10_000), Part(115_000, 10_000, 20_000)]


def test_a_moment_inside_a_part_keeps_its_place() -> None:
    assert offset_in_replay(PARTS, 100_000) == 0
    assert offset_in_replay(PARTS, 104_250) == 4_250
    assert offset_in_replay(PARTS, 116_000) == 11_000


def test_a_moment_in_the_gap_goes_to_the_next_part() -> None:
    assert offset_in_replay(PARTS, 110_000) == 10_000
    assert offset_in_replay(PARTS, 114_999) == 10_000


def test_moments_outside_the_recording_are_clamped() -> None:
    assert offset_in_replay(PARTS, 50_000) == 0
    assert offset_in_replay(PARTS, 200_000) == 30_000
    assert offset_in_replay([], 123) == 0


def test_parts_round_trip_through_json() -> None:
    data = PARTS[1].to_json()
    assert data == {
        "started_ms": 115_000,
        "started_at": "1970-01-01T00:01:55+00:00",
        "offset_ms": 10_000,
        "duration_ms": 20_000,
    }
    assert Part.from_json(data) == PARTS[1]
