"""What happened to each action of a run: the executor's result, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from reconcile.plans import Action

# applied:     Codat now holds what the action wanted (sent now, or found already done).
# failed:      Codat refused or could not be asked; `detail` says what and whether it may
#              have landed anyway.
# refused:     not sent: Codat no longer holds what the plan saw (a destructive action only).
# skipped:     not sent because an earlier action of the same customer did not succeed, or
#              --fail-fast stopped the run.
# not_started: not sent because the run was stopped (quota used up, interrupted).
OutcomeStatus = Literal["applied", "failed", "refused", "skipped", "not_started"]
STATUSES: tuple[OutcomeStatus, ...] = ("applied", "failed", "refused", "skipped", "not_started")


@dataclass(frozen=True)
class Outcome:
    action: Action
    status: OutcomeStatus
    company_id: str | None = None
    detail: str = ""
    correlation_id: str | None = None
    # A connection the action created (or found made): its id and, for an accounting one
    # awaiting authorization, the Link URL the customer opens.
    connection_id: str | None = None
    link_url: str | None = None


StopReason = Literal["fail-fast", "quota", "interrupt", "terminate"]


@dataclass(frozen=True)
class Stop:
    """Why a run stopped starting actions (for the quota: its limit and reset, when known)."""

    reason: StopReason
    detail: str = ""
    limit: int | None = None
    resets_at: datetime | None = None


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    stopped: Stop | None = None

    def of(self, status: OutcomeStatus) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    def counts(self) -> dict[OutcomeStatus, int]:
        counts: dict[OutcomeStatus, int] = dict.fromkeys(STATUSES, 0)
        for o in self.outcomes:
            counts[o.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        return all(o.status == "applied" for o in self.outcomes) and self.stopped is None
