"""The one source of "now" (UTC), which tests can move without monkeypatching the stdlib."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    @contextmanager
    def travel(self, by: timedelta) -> Iterator[None]:
        """Pretend that `by` has passed, for the duration of the block."""
        previous = self._offset
        self._offset = previous + by
        try:
            yield
        finally:
            self._offset = previous


clock = Clock()
