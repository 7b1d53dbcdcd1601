"""The watch's daily request budget: a share of Codat's client limit, counted per UTC day.

Codat's client limit (docs.codat.io/using-the-api/rate-limits, "Client-based limits") is the
greater of 1,000 requests a day and 100 per active connected company, "intended to be low
volume", and the partner's own app spends from the same account. The watch aims to stay within
a share of it (10% by default, `--request-budget 10%`) or within a number of requests a day
(`--request-budget 20000`). The active connected companies are those of the owner's listing
with a Linked connection: the watch sees only its owner's companies, so the limit it computes is
the least the account has.

Every request the watch's client sends counts (passes, webhook-driven reads, notifications'
reads), sampled before and after each pass; the count starts again at 00:00 UTC, when Codat's
quota resets. The budget never stops a read: the config sweep (`reconcile.watch.sweep`) asks it
how much it may spend per resync and slows when the day's projection would exceed it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

CLIENT_LIMIT_FLOOR = 1000
PER_ACTIVE_COMPANY = 100
DEFAULT_SHARE = 0.10
DAY_SECONDS = 86_400.0


def client_limit(active_companies: int) -> int:
    """Codat's client limit a day: the greater of 1,000 and 100 per active connected company."""
    return max(CLIENT_LIMIT_FLOOR, PER_ACTIVE_COMPANY * active_companies)


@dataclass(frozen=True)
class BudgetSetting:
    """`--request-budget`: a share of the client limit, or requests a day."""

    share: float | None = DEFAULT_SHARE
    requests: int | None = None

    @classmethod
    def parse(cls, text: str) -> BudgetSetting:
        """`10%` (of Codat's client limit) or `20000` (requests a day); ValueError says why."""
        value = text.strip()
        try:
            if value.endswith("%"):
                share = float(value[:-1]) / 100
                if not 0 < share <= 1:
                    raise ValueError
                return cls(share=share)
            requests = int(value.replace(",", "").replace("_", ""))
            if requests < 1:
                raise ValueError
            return cls(share=None, requests=requests)
        except ValueError:
            raise ValueError(
                f"{text!r} is neither a share of Codat's client limit (e.g. 10%, more than 0 and "
                "at most 100) nor a number of requests a day (e.g. 20000)"
            ) from None

    def describe(self) -> str:
        if self.requests is not None:
            return f"{self.requests:,} requests a day"
        return f"{_percent(self.share or 0)} of Codat's client limit"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Budget:
    """The requests the watch's client sent today (UTC) against the day's budget."""

    def __init__(
        self,
        setting: BudgetSetting,
        sent: Callable[[], int],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.setting = setting
        self._sent = sent
        self.clock = clock
        self.active_companies = 0
        self._counted = 0  # everything the client sent counts, from its first request
        self._day: date = clock().date()
        self._spent = 0

    def observe(self, active_companies: int) -> None:
        """The listing's active connected companies (the client limit follows them)."""
        self.active_companies = active_companies

    def sample(self) -> None:
        """Count what the client sent since the last sample (a new UTC day starts at 0)."""
        count = self._sent()
        today = self.clock().date()
        if today != self._day:
            self._day, self._spent = today, 0
        self._spent += max(0, count - self._counted)
        self._counted = count

    @property
    def spent_today(self) -> int:
        return self._spent if self.clock().date() == self._day else 0

    @property
    def client_limit(self) -> int:
        return client_limit(self.active_companies)

    @property
    def budget(self) -> int:
        if self.setting.requests is not None:
            return self.setting.requests
        return math.floor((self.setting.share or 0) * self.client_limit)

    def seconds_left_today(self) -> float:
        now = self.clock()
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        return max(1.0, (midnight - now).total_seconds())

    def allowance(self, resync_seconds: float, listing: float) -> float:
        """What each resync left today may spend on the sweep beyond its `listing` requests, so
        that the day ends within the budget (what changes and webhooks cost is counted as it is
        spent)."""
        resyncs_left = max(1, math.ceil(self.seconds_left_today() / max(resync_seconds, 1e-9)))
        free = self.budget - self.spent_today - listing * resyncs_left
        return max(0.0, free / resyncs_left)

    def document(self) -> dict[str, Any]:
        return {
            "day": self.clock().date().isoformat(),
            "requests_today": self.spent_today,
            "budget": self.budget,
            "setting": self.setting.describe(),
            "client_limit": self.client_limit,
            "active_companies": self.active_companies,
        }


def _percent(share: float) -> str:
    return f"{share * 100:g}%"
