"""Codat's rate-limit headers, and when a 429 means "stop for today" rather than "wait a bit".

Every Codat response carries `X-Rate-Limit-Limit` (requests allowed today),
`X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (when the quota resets). The reset is read
as a Unix time when it is a large integer (what the sandbox sends), as seconds from the
response's `Date` when it is a small one, else as an HTTP date or ISO 8601. A header that is
absent or unreadable is None: nothing is guessed.

The retry budget (`ClientSettings.retry_budget`, 150 s by default: what the default retries
could wait in all, 30 s x 5): a 429 is worth waiting for only when its `Retry-After` fits in it.
A 429 with `X-Rate-Limit-Remaining: 0`, or a `Retry-After` beyond the budget, is the daily quota:
`QuotaExhausted` at once, no waiting. (Each wait itself is capped at `backoff_cap`: a shorter
wait that meets another 429 simply waits again.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# The longest `Retry-After` taken as said: Codat's quota is daily, so anything longer is "a day".
MAX_RETRY_AFTER = 86_400.0
# Below this an X-Rate-Limit-Reset integer is a number of seconds, above it a Unix time.
_UNIX_TIME_FLOOR = 1_000_000_000


@dataclass(frozen=True)
class RateLimit:
    limit: int | None
    remaining: int | None
    reset: datetime | None

    def least(self, remaining: int | None, reset: datetime | None) -> int | None:
        """What remains, given what an earlier answer said (`remaining` until `reset`):
        answers to requests in flight together arrive in any order, so within one quota day the
        least said is the truest; a new day's answer stands on its own."""
        if self.remaining is None or remaining is None or reset != self.reset:
            return self.remaining
        return min(self.remaining, remaining)


def read_rate_limit(headers: Mapping[str, str], now: datetime) -> RateLimit:
    return RateLimit(
        limit=_count(headers.get("X-Rate-Limit-Limit")),
        remaining=_count(headers.get("X-Rate-Limit-Remaining")),
        reset=_moment(headers.get("X-Rate-Limit-Reset"), now),
    )


class AnswerClock:
    """Codat's clock and quota from each answer's headers, as `http_date` and `read_rate_limit`
    read them, at little cost per answer: the Date changes once a second and the reset once a
    day, so each is parsed only when its header (and, for the reset, the Date) changed."""

    def __init__(self) -> None:
        self._date: str | None = None
        self._moment: datetime | None = None
        self._reset_key: tuple[str | None, str | None] | None = None
        self._reset: datetime | None = None

    def read(self, headers: Mapping[str, str]) -> tuple[datetime, RateLimit]:
        date = headers.get("Date")
        if date is None:  # nothing to remember: our clock, read afresh
            now = datetime.now(UTC)
            return now, read_rate_limit(headers, now)
        if date != self._date:
            self._date, self._moment = date, http_date(date)
        now = self._moment or datetime.now(UTC)
        reset = headers.get("X-Rate-Limit-Reset")
        if self._moment is None or (reset, date) != self._reset_key:
            self._reset = _moment(reset, now)
            self._reset_key = (reset, date) if self._moment is not None else None
        limit = _count(headers.get("X-Rate-Limit-Limit"))
        return now, RateLimit(limit, _count(headers.get("X-Rate-Limit-Remaining")), self._reset)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds from now: a number of seconds or an HTTP date, clamped to
    `MAX_RETRY_AFTER` (`inf` or `1e20` are "a day or more", never an overflow); NaN is unreadable
    (None)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        moment = http_date(value)
        if moment is None:
            return None
        seconds = (moment - now).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _moment(value: str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    number = _count(value)
    if number is not None:
        if number >= _UNIX_TIME_FLOOR:
            try:
                return datetime.fromtimestamp(number, UTC)
            except (OverflowError, OSError, ValueError):
                return None
        return now + timedelta(seconds=number)
    return http_date(value)


def http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
