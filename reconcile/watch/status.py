"""What the watch knows about itself and the fleet, for GET /status and the metrics.

Waiting items are kept per customer: a full pass replaces them all, a pass over some companies
replaces those customers' items. Nothing here holds a Link URL (anyone who opens one can
authorize that company), and the document shows no company id (the id of a company awaiting
authorization is a Link URL, `reconcile.render.bearer`): /status is for operators, dashboards
and logs; a customer's uid identifies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconcile.model.who import WHO, Waiting
from reconcile.render.bearer import hide
from reconcile.watch.passes import PassReport


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
    _waiting: dict[str, tuple[Waiting, ...]] = field(default_factory=dict)

    def record(self, report: PassReport) -> None:
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
        }


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
