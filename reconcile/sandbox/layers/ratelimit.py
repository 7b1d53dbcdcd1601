"""Codat's rate limits: the daily quota, the per-company concurrency cap and, when asked for, the
limit a minute (`minute.py`, checked first: a request refused by it is not counted for the day).

- **Daily quota**: `options.daily_quota` requests per UTC day per credential (hash of the
  `Authorization` header), or Codat's client limit when it is `"codat"`: the greater of 1,000 and
  100 per active connected company (a company with a Linked connection), as Codat's rate-limits
  page words it (docs.codat.io/using-the-api/rate-limits, "Client-based limits"), or none at all
  when it is None (nothing is counted and the `X-Rate-Limit-*` headers are left off: there is no
  quota to count down; the concurrency cap still applies). The counter is a row in this module's
  own table in the sandbox's SQLite file, incremented with one atomic UPSERT per request, so every
  process serving the same file shares it. The number of active companies is cached for
  `ACTIVE_COMPANIES_CACHE_SECONDS` per process.
- **Concurrency**: at most `options.concurrency_limit` requests in flight per company (any path
  under `/companies/{companyId}`). Counted **per process**: several server processes on one file
  each allow N (an in-flight count in SQLite would leak on a crash and cost two writes a request).

Authentication is the core app's, inside this layer: a request with a wrong key is counted too,
against the quota of that (wrong) credential, and its 401 carries the headers.

The first request over the daily quota records Codat's `client.rateLimit.reached` webhook, and
a `client.rateLimit.reset` due at the reset (`webhooks.store.record_quota_reached`).

Every response on a Codat path carries `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and
`X-Rate-Limit-Reset` (Unix time of the next 00:00 UTC, when the quota resets), errors and
replays included. Over a limit: 429 with Codat's ErrorMessage body and `Retry-After` (seconds
until the reset for the quota; the seconds left in the minute for the limit a minute;
`options.retry_after_seconds` for the concurrency cap).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconcile.sandbox.errors import error_response
from reconcile.sandbox.layers.common import (
    Clock,
    LayerDB,
    credential_scope,
    is_api_request,
)
from reconcile.sandbox.layers.minute import MinuteWindows
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store.store import Store
from reconcile.sandbox.store.unit import current_unit
from reconcile.sandbox.webhooks.store import record_quota_reached

CLIENT_LIMIT_FLOOR = 1000
CALLS_PER_COMPANY = 100
SECONDS_A_DAY = 86_400
ACTIVE_COMPANIES_CACHE_SECONDS = 2.0
_COMPANY_PATH = re.compile(r"^/companies/([^/]+)(?:/|$)")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_rate_usage (
    credential TEXT NOT NULL,
    day        TEXT NOT NULL,
    used       INTEGER NOT NULL,
    PRIMARY KEY (credential, day)
) WITHOUT ROWID
"""


def company_of(path: str) -> str | None:
    match = _COMPANY_PATH.match(path)
    return match.group(1) if match else None


def client_limit(active_companies: int) -> int:
    """Codat's client limit a day: the greater of 1,000 and 100 per active connected company."""
    return max(CLIENT_LIMIT_FLOOR, CALLS_PER_COMPANY * active_companies)


def day_and_reset(now: float) -> tuple[str, int]:
    """The UTC day of `now` and the Unix time of the next 00:00 UTC."""
    moment = datetime.fromtimestamp(now, UTC)
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC) + timedelta(days=1)
    return moment.date().isoformat(), int(midnight.timestamp())


class Days:
    """`day_and_reset`, worked out again only when `now` leaves the day last asked about."""

    def __init__(self) -> None:
        self._start, self._reset, self._day = 0.0, 0, ""

    def __call__(self, now: float) -> tuple[str, int]:
        if not self._start <= now < self._reset:
            self._day, self._reset = day_and_reset(now)
            self._start = float(self._reset - SECONDS_A_DAY)
        return self._day, self._reset


class QuotaCounter:
    """Per-credential daily usage in the shared SQLite file."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._db = LayerDB(db_path, _SCHEMA)

    @property
    def conn(self) -> sqlite3.Connection:
        return self._db.conn

    def increment(self, credential: str, day: str) -> int:
        """Count one request (in the request's transaction when there is one)."""
        rows, _ = self._db.write(
            "INSERT INTO sandbox_rate_usage (credential, day, used) VALUES (?, ?, 1)"
            " ON CONFLICT (credential, day) DO UPDATE SET used = used + 1 RETURNING used",
            (credential, day),
        )
        return int(rows[0][0])

    def used(self, credential: str, day: str) -> int:
        row = self.conn.execute(
            "SELECT used FROM sandbox_rate_usage WHERE credential = ? AND day = ?",
            (credential, day),
        ).fetchone()
        return int(row[0]) if row else 0


def _store_active_companies(db_path: Path) -> Callable[[], int]:
    store = Store(db_path)
    return lambda: int(store.count_active_companies())


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        options: SandboxOptions,
        *,
        clock: Clock = time.time,
        active_companies: Callable[[], int] | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.daily_quota = options.daily_quota
        self.concurrency_limit = options.concurrency_limit
        self.retry_after = options.retry_after_seconds
        self.counter = QuotaCounter(options.db_path)
        self._db_path = options.db_path
        self._active_companies = active_companies
        self._active_cache: tuple[float, int] | None = None
        self._days = Days()
        self.in_flight: Counter[str] = Counter()
        limit = options.minute_limit
        self.minutes = None if limit is None else MinuteWindows(limit)

    def limit(self) -> int:
        """Today's quota (only called when there is one)."""
        if isinstance(self.daily_quota, int):
            return self.daily_quota
        now = time.monotonic()
        if self._active_cache is None or now - self._active_cache[0] > (
            ACTIVE_COMPANIES_CACHE_SECONDS
        ):
            if self._active_companies is None:
                self._active_companies = _store_active_companies(self._db_path)
            self._active_cache = (now, self._active_companies())
        return client_limit(self._active_cache[1])

    def _headers(self, limit: int, used: int, reset: int) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(max(0, limit - used)),
            "X-Rate-Limit-Reset": str(reset),
        }

    def peek_headers(self, scope: Scope) -> dict[str, str]:
        """The current quota headers without counting a request (for injected faults)."""
        if self.daily_quota is None:
            return {}
        day, reset = self._days(self.clock())
        return self._headers(self.limit(), self.counter.used(credential_scope(scope), day), reset)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_api_request(scope):
            await self.app(scope, receive, send)
            return
        if self.minutes is not None:
            left = self.minutes.over(credential_scope(scope), self.clock())
            if left is not None:
                await error_response(
                    429,
                    f"Too many requests this minute (limit {self.minutes.limit} a minute); "
                    "please retry later.",
                    headers={**self.peek_headers(scope), "Retry-After": str(left)},
                )(scope, receive, send)
                return
        quota_headers: dict[str, str] = {}
        if self.daily_quota is not None:
            now = self.clock()
            day, reset = self._days(now)
            limit = self.limit()
            unit = current_unit()
            conn = self.counter.conn  # the counter's table exists from here on
            if unit is not None:
                conn = await unit.begin()  # the request's transaction starts with its count
            used = self.counter.increment(credential_scope(scope), day)
            quota_headers = self._headers(limit, used, reset)
            if used == limit + 1:  # the first request over: Codat's webhook says so
                record_quota_reached(conn, limit, reset)
            if used > limit:
                retry_after = max(1, reset - int(now))
                await error_response(
                    429,
                    "You have made too many requests today; the daily quota resets at 00:00 UTC.",
                    headers={**quota_headers, "Retry-After": str(retry_after)},
                )(scope, receive, send)
                return
        company = company_of(scope["path"])
        if company is not None and self.in_flight[company] >= self.concurrency_limit:
            await error_response(
                429,
                f"Too many concurrent requests for this company (limit "
                f"{self.concurrency_limit}); please retry later.",
                headers={**quota_headers, "Retry-After": str(self.retry_after)},
            )(scope, receive, send)
            return

        added = [(name.lower().encode(), value.encode()) for name, value in quota_headers.items()]

        async def send_with_headers(message: Message) -> None:
            if added and message["type"] == "http.response.start":
                names = {name for name, _ in added}  # they replace any the answer has
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in names]
                message["headers"] = [*kept, *added]
            await send(message)

        if company is None:
            await self.app(scope, receive, send_with_headers)
            return
        self.in_flight[company] += 1
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self.in_flight[company] -= 1
            if self.in_flight[company] <= 0:
                del self.in_flight[company]
