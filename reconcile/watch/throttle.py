"""A line that stands for many events: the first at once, then at most one per interval."""

from __future__ import annotations

import time
from collections.abc import Callable


class Throttle:
    """Counts events and lets a line through at once, then at most one per `interval` seconds
    of `clock`, telling how many events that line stands for."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last: float | None = None
        self._count = 0

    def count(self) -> int | None:
        """Count one event: how many events the line due now stands for (this one and those
        held back since the last line), or None when no line is due yet."""
        self._count += 1
        now = self._clock()
        if self._last is not None and now - self._last < self.interval:
            return None
        count, self._count, self._last = self._count, 0, now
        return count
