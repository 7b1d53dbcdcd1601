"""What the status page and the HTML audit show: plain data, filled by the watch (from its passes)
or by the audit (from its read), rendered by `reconcile.render.html` with the same templates.

Never a Link URL or a company id: the page is for operators (docs/design.md §11)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


@dataclass(frozen=True)
class CustomerView:
    row: Onboarding
    waits: tuple[WaitRow, ...] = ()
    timeline: tuple[Event, ...] = ()


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
    health: tuple[tuple[str, str], ...] = ()  # (what, value), in order
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
