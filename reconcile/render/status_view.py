"""What the status page and the HTML audit show: plain data, filled by the watch (from its passes)
or by the audit (from its read), rendered by `reconcile.render.html` with the same templates.

Never a Link URL or a company id: the page is for operators (docs/design.md §11)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from reconcile.model.onboarding import FUNNEL, STAGE_TEXT, Onboarding
from reconcile.model.who import URGENCY, Who

WHO_TEXT: dict[Who, str] = {
    "person": "For a person",
    "review": "For a review (a reviewed apply)",
    "converge": "For converge (pre-approved follow-ups)",
    "customer": "For the customer",
}


@dataclass(frozen=True)
class WaitRow:
    """Something waiting, for whom, why and since when."""

    who: Who
    uid: str
    name: str
    reason: str
    detail: str
    since: datetime | None = None


@dataclass(frozen=True)
class Event:
    """One line of a customer's timeline: what the watch saw or did, when."""

    at: datetime
    text: str


# Who must act on a customer's health, in a table cell.
WHO_SHORT: dict[Who, str] = {
    "person": "a person",
    "review": "a review (the file must change)",
    "converge": "converge (policy.auto: refresh_data)",
    "customer": "the customer (re-authorize)",
}
HEALTH_TEXT: dict[str, str] = {"healthy": "Healthy", "degraded": "Degraded", "at_risk": "At risk"}


@dataclass(frozen=True)
class HealthRow:
    """One customer's health as a health read saw it: never a company id or a Link URL."""

    uid: str
    name: str
    state: str  # healthy, degraded, at_risk
    reasons: tuple[tuple[str, Who], ...] = ()  # (what, who must act), most urgent first
    deauthorized_on: date | None = None  # at risk: when Codat will deauthorize the connection
    last_sync: datetime | None = None

    @property
    def who(self) -> tuple[Who, ...]:
        return tuple(dict.fromkeys(who for _, who in self.reasons))


@dataclass(frozen=True)
class CustomerHealth:
    """The last health read: when (Codat's clock), the customers by state, and those Degraded or
    At risk (at risk first)."""

    read_at: datetime
    counts: tuple[tuple[str, int], ...]  # (state, customers), healthy first
    rows: tuple[HealthRow, ...] = ()

    def of(self, uid: str) -> HealthRow | None:
        return next((r for r in self.rows if r.uid == uid), None)


@dataclass(frozen=True)
class CustomerView:
    row: Onboarding
    waits: tuple[WaitRow, ...] = ()
    timeline: tuple[Event, ...] = ()
    health: HealthRow | None = None  # Degraded or At risk at the last health read


@dataclass(frozen=True)
class FunnelStep:
    label: str
    at_stage: int  # customers at this stage now
    reached: int  # customers at this stage or beyond


@dataclass(frozen=True)
class StatusView:
    title: str
    owner: str
    now: datetime
    customers: tuple[CustomerView, ...] = ()
    waiting: tuple[WaitRow, ...] = ()
    health: tuple[tuple[str, str], ...] = ()  # (what, value), in order: the watch's own
    # Customers' health (the watch's daily read; None: not read yet). `health_note` says why not.
    customer_health: CustomerHealth | None = None
    health_note: str | None = None
    notes: tuple[str, ...] = ()  # warnings shown above everything
    source: str = ""  # "watch" or "audit": what made it
    budget: tuple[tuple[str, str], ...] = ()  # the watch's requests today and its config sweep
    extra: dict[str, str] = field(default_factory=dict)

    def funnel(self) -> tuple[FunnelStep, ...]:
        stages = [c.row.stage for c in self.customers]
        steps = []
        for index, stage in enumerate(FUNNEL):
            later = FUNNEL[index:]
            steps.append(
                FunnelStep(
                    STAGE_TEXT[stage],
                    stages.count(stage),
                    sum(1 for s in stages if s in later),
                )
            )
        return tuple(steps)

    @property
    def reauthorization(self) -> int:
        return sum(1 for c in self.customers if c.row.stage == "reauthorization")

    def awaiting(self) -> tuple[CustomerView, ...]:
        """Customers awaiting authorization (or re-authorization), the longest waiting first."""
        mine = [c for c in self.customers if c.row.stage in ("awaiting", "reauthorization")]
        return tuple(sorted(mine, key=lambda c: c.row.since or "\uffff"))

    def waiting_by_who(self) -> tuple[tuple[str, tuple[WaitRow, ...]], ...]:
        return tuple(
            (WHO_TEXT[who], rows)
            for who in URGENCY
            if (rows := tuple(w for w in self.waiting if w.who == who))
        )

    @cached_property
    def _by_uid(self) -> dict[str, CustomerView]:
        return {c.row.uid: c for c in self.customers}

    def customer(self, uid: str) -> CustomerView | None:
        return self._by_uid.get(uid)


def by_uid(waits: Iterable[WaitRow]) -> dict[str, tuple[WaitRow, ...]]:
    """Waiting rows grouped by customer (one pass, for a page of thousands)."""
    grouped: dict[str, list[WaitRow]] = {}
    for wait in waits:
        grouped.setdefault(wait.uid, []).append(wait)
    return {uid: tuple(rows) for uid, rows in grouped.items()}


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def age(since: datetime | str | None, now: datetime) -> str:
    """'3d 4h', '5h 2m', '40s'; '' when unknown."""
    moment = parse_time(since) if isinstance(since, str) else since
    if moment is None:
        return ""
    seconds = max(0, int((now - moment).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {seconds}s"
    return f"{seconds}s"
