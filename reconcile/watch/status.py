"""What the watch knows about itself and the fleet, for GET /status and the metrics.

Waiting items are kept per customer: a full pass replaces them all, a pass over some companies
replaces those customers' items; so is each customer's place in the onboarding funnel. Each
customer's timeline says what the watch saw and did. A connection event about an error is shown
at once, as Codat reported it, until a pass of that company reads it. Nothing here holds a Link
URL (anyone who opens one can authorize that company), and nothing shows a company id (the id of
a company awaiting authorization is a Link URL, `reconcile.render.bearer`): /status and the
status page are for operators, dashboards and logs; a customer's uid identifies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconcile.model.onboarding import FUNNEL, STAGE_TEXT, Onboarding
from reconcile.model.who import WHO, Waiting
from reconcile.render.bearer import hide
from reconcile.render.status_view import (
    CustomerHealth,
    CustomerView,
    StatusView,
    WaitRow,
    age,
    by_uid,
    parse_time,
)
from reconcile.watch.events import Hint
from reconcile.watch.health_rows import NOT_READ, customer_health, health_document
from reconcile.watch.passes import PassReport
from reconcile.watch.resync import ResyncReads
from reconcile.watch.timeline import Timeline

NOT_READ_YET = "(a company the watch has not read yet)"


@dataclass(frozen=True)
class Reported:
    """A connection error a webhook reported, not yet read by a pass."""

    at: datetime
    event: str
    error: str


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


@dataclass
class WatchStatus:
    owner: str
    files: tuple[str, ...]
    environment: str | None = None  # --env: the file's environment (Codat account) watched
    started_at: datetime = field(default_factory=_now)
    desired_error: str | None = None  # why the files on disk are not used (last good ones are)
    desired_loaded_at: datetime = field(default_factory=_now)
    quota_paused_until: datetime | None = None
    quota_paused: bool = False
    last_good_resync: datetime | None = None
    last_pass_at: datetime | None = None
    last_pass_error: str | None = None
    passes: int = 0
    queued: int = 0
    stopping: bool = False
    last_accepted_at: datetime | None = None
    last_refused_at: datetime | None = None
    last_refused_reason: str | None = None
    timeline: Timeline = field(default_factory=Timeline)
    reads: ResyncReads | None = None  # the resync's reads: the request budget and the sweep
    _waiting: dict[str, tuple[Waiting, ...]] = field(default_factory=dict)
    _stages: dict[str, Onboarding] = field(default_factory=dict)
    _uids: dict[str, str] = field(default_factory=dict)  # company id -> uid (never shown)
    _reported: dict[str, Reported] = field(default_factory=dict)  # by company id
    _health: CustomerHealth | None = None  # the last health read (a full pass, daily)

    def hinted(self, hint: Hint) -> str | None:
        """A verified event about a company: on its customer's timeline, and an error it reports
        on /status at once. Returns the customer's uid when known."""
        if hint.company_id is None:
            return None
        uid = self._uids.get(hint.company_id)
        what = f"Codat sent {hint.event_type or 'an event'}"
        if hint.error:
            what += f" reporting {hint.error}"
            self._reported[hint.company_id] = Reported(_now(), hint.event_type or "", hint.error)
        if uid is not None:
            self.timeline.add(uid, what)
        return uid

    def record(self, report: PassReport) -> list[tuple[str, str]]:
        """Take in what a pass saw; returns what changed for customers, as (uid, what)."""
        changes = self._record_stages(report)
        for done in report.done:
            text = f"{done.outcome} {done.kind} ({done.subject})"
            if done.outcome != "applied" and done.detail:
                text += f": {done.detail}"
            self.timeline.add(done.uid, text)
            changes.append((done.uid, text))
        self._record_waiting(report)
        if report.healths is not None:
            read_at = report.health_read_at or _now()
            self._health = customer_health(report.healths, read_at)
        return changes

    def _record_stages(self, report: PassReport) -> list[tuple[str, str]]:
        self._uids.update(report.companies)
        if report.company_ids is None:
            self._reported.clear()
        else:
            for company_id in report.company_ids:
                self._reported.pop(company_id, None)
        if report.onboarding is None:
            return []
        changes = []
        before = self._stages
        if report.company_ids is None:
            self._stages = {}
        for row in report.onboarding:
            old = before.get(row.uid)
            self._stages[row.uid] = row
            if old is None or old.stage != row.stage:
                was = f"{STAGE_TEXT[old.stage]} -> " if old is not None else ""
                text = f"stage {was}{STAGE_TEXT[row.stage]}"
                if row.error:
                    text += f" (connection error: {row.error})"
                self.timeline.add(row.uid, text)
                changes.append((row.uid, text))
        return changes

    def _record_waiting(self, report: PassReport) -> None:
        if report.company_ids is None:
            self._waiting = {}
        else:  # forget what the covered companies' customers waited for; the report says anew
            scope = report.company_ids
            for uid, items in list(self._waiting.items()):
                if any(item.company_id in scope for item in items):
                    del self._waiting[uid]
        by_uid: dict[str, list[Waiting]] = {}
        for item in report.waiting:
            by_uid.setdefault(item.uid or "", []).append(item)
        self._waiting.update({uid: tuple(items) for uid, items in by_uid.items()})

    def waiting(self) -> list[Waiting]:
        return [w for uid in sorted(self._waiting) for w in self._waiting[uid]]

    def waiting_counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(WHO, 0)
        for item in self.waiting():
            counts[item.who] += 1
        return counts

    def funnel(self) -> dict[str, int]:
        stages = [row.stage for row in self._stages.values()]
        return {stage: stages.count(stage) for stage in (*FUNNEL, "reauthorization")}

    def reported(self) -> list[tuple[str, Reported]]:
        """Connection errors reported by webhooks and not yet read: (uid or a placeholder, what);
        never the company id (it may be a pending company's)."""
        return [
            (self._uids.get(company_id, NOT_READ_YET), found)
            for company_id, found in sorted(self._reported.items(), key=lambda kv: kv[1].at)
        ]

    def document(self) -> dict[str, Any]:
        waiting = self.waiting()
        return {
            "owner": self.owner,
            "environment": self.environment,
            "files": list(self.files),
            "started_at": _iso(self.started_at),
            "desired": {
                "loaded_at": _iso(self.desired_loaded_at),
                "valid": self.desired_error is None,
                "error": _shown(self.desired_error),
            },
            "quota": {
                "paused": self.quota_paused,
                "until": _iso(self.quota_paused_until),
            },
            "last_good_resync": _iso(self.last_good_resync),
            "last_pass_at": _iso(self.last_pass_at),
            "last_pass_error": _shown(self.last_pass_error),
            "passes": self.passes,
            "queued_companies": self.queued,
            "stopping": self.stopping,
            "waiting": {who: [_item(w) for w in waiting if w.who == who] for who in WHO},
            "funnel": self.funnel(),
            "deliveries": {
                "last_accepted": _iso(self.last_accepted_at),
                "last_refused": _iso(self.last_refused_at),
                "last_refused_reason": self.last_refused_reason,
            },
            "customer_health": health_document(self._health),
            "reported_connection_errors": [
                {"uid": uid, "event": r.event, "error": hide(r.error), "at": _iso(r.at)}
                for uid, r in self.reported()
            ],
            "requests": self.reads.document() if self.reads is not None else None,
        }

    def view(self, only: str | None = None, now: datetime | None = None) -> StatusView:
        """The status page's data (`only`: just that customer's, for its own page)."""
        moment = now or _now()
        mine = self._waiting.get(only, ()) if only is not None else self.waiting()
        waits = [
            WaitRow(w.who, w.uid or "", w.name, w.subject, w.detail, parse_time(w.since))
            for w in mine
        ]
        waits += [
            WaitRow(
                "person", uid, "", f"Codat reported {r.event}", r.error + " (not read yet)", r.at
            )
            for uid, r in self.reported()
            if only is None or uid == only
        ]
        grouped = by_uid(waits)
        health = self._health
        customers = tuple(
            CustomerView(
                row,
                grouped.get(uid, ()),
                self.timeline.of(uid),
                health.of(uid) if health is not None else None,
            )
            for uid, row in self._stages.items()
            if only is None or uid == only
        )
        notes = []
        if self.desired_error:
            notes.append(
                f"The desired files are invalid; the last good ones are used: {self.desired_error}"
            )
        if self.last_pass_error:
            notes.append(f"The last pass failed: {self.last_pass_error}")
        return StatusView(
            title="Onboarding status",
            owner=self.owner,
            now=moment,
            customers=customers,
            waiting=tuple(waits),
            health=self._own_health(moment),
            customer_health=health,
            health_note=NOT_READ if health is None else None,
            notes=tuple(notes),
            source="watch",
            budget=self.reads.rows() if self.reads is not None else (),
        )

    def _own_health(self, now: datetime) -> tuple[tuple[str, str], ...]:
        def when(moment: datetime | None, never: str = "never") -> str:
            if moment is None:
                return never
            return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({age(moment, now)} ago)"

        quota = (
            f"paused until {when(self.quota_paused_until, 'the reset')}"
            if self.quota_paused
            else "not paused"
        )
        refused = when(self.last_refused_at)
        if self.last_refused_reason:
            refused += f": {self.last_refused_reason}"
        return (
            ("Environment", self.environment or "(none declared)"),
            ("Files", ", ".join(self.files)),
            ("Started", when(self.started_at)),
            ("Last full pass without a failure", when(self.last_good_resync)),
            ("Last pass", when(self.last_pass_at)),
            ("Passes", str(self.passes)),
            ("Companies queued", str(self.queued)),
            ("Desired files", "invalid" if self.desired_error else "valid"),
            ("Daily quota", quota),
            ("Last delivery accepted", when(self.last_accepted_at)),
            ("Last delivery refused", refused),
        )


def _item(item: Waiting) -> dict[str, Any]:
    # Never the company id (kept to scope a pass: a pending company's id is a Link URL).
    body: dict[str, Any] = {
        "uid": item.uid or "",
        "name": item.name,
        "subject": item.subject,
        "detail": item.detail,
        "since": item.since,
    }
    return {k: hide(v) if isinstance(v, str) else v for k, v in body.items()}


def _shown(message: str | None) -> str | None:
    return None if message is None else hide(message)
