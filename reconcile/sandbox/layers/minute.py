"""Codat's limit a minute: `options.minute_limit` requests per credential in each fixed minute of
the sandbox's clock (Codat says 1,000 a minute per IP; the sandbox counts per key, as it does the
daily quota). Off by default.

Counted **per process**, in memory, like the concurrency cap: a minute's count is worth no
SQLite write. Every request counts, refused ones too. Over the limit, `RateLimitMiddleware`
answers 429 with Codat's ErrorMessage body and a `Retry-After` of the seconds left in the minute
(at least 1), before the daily quota counts it.
"""

from __future__ import annotations

import math
from collections import Counter

WINDOW_SECONDS = 60


class MinuteWindows:
    """Requests per credential in the current fixed minute."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._minute = -1
        self._counts: Counter[str] = Counter()

    def over(self, credential: str, now: float) -> int | None:
        """Count one request of `credential` at `now` (seconds since the epoch); when it is over
        the limit, the seconds left in the minute (its `Retry-After`), else None."""
        minute = int(now // WINDOW_SECONDS)
        if minute != self._minute:
            self._minute = minute
            self._counts.clear()
        self._counts[credential] += 1
        if self._counts[credential] <= self.limit:
            return None
        return max(1, math.ceil((minute + 1) * WINDOW_SECONDS - now))
