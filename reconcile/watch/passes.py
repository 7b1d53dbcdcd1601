"""What the scheduler needs from one converge pass, and the pass it runs by default.

The scheduler is given a `Converge`: `await converge(desired, company_ids, stopper)` runs one
pass (the whole fleet when `company_ids` is None, else just those companies, read fresh) and
returns a `PassReport`. Tests inject their own; the command uses `default_converge`.

`default_converge` plans with the planner, keeps only the follow-ups a reviewed file pre-approves
(the partner expense connection and the expense config) and applies them with the executor,
whose idempotency keys make a re-run after a crash replay instead of duplicating. Everything
else it reports as waiting: for the customer, a review, or a person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from reconcile.plan import CustomerChange, Kind, Plan

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.executor import ApplyResult, Stopper
    from reconcile.model import DesiredState

Who = Literal["customer", "review", "person"]
WHO: tuple[Who, ...] = ("customer", "review", "person")
# What a reviewed file pre-approves when it says nothing else (issue 16's `policy.auto` default).
AUTO_KINDS = frozenset({Kind.CREATE_PARTNER_EXPENSE, Kind.SET_EXPENSE_CONFIG})


@dataclass(frozen=True)
class Waiting:
    """Something the pass did not do, and who must act. Never holds a Link URL."""

    who: Who
    uid: str
    name: str
    subject: str
    detail: str
    since: str | None = None


@dataclass(frozen=True)
class PassReport:
    """What one pass did. `uids`: the customers it covered (None: the whole fleet)."""

    uids: frozenset[str] | None
    applied: Counter[str] = field(default_factory=Counter)  # by action kind
    failed: Counter[str] = field(default_factory=Counter)  # by action kind
    waiting: tuple[Waiting, ...] = ()
    quota_stopped: bool = False  # Codat's daily quota stopped the pass
    quota_resets_at: datetime | None = None  # when it resets, if Codat said
    stopped: bool = False  # a signal stopped it: what it did not start is left for later
    requests: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.quota_stopped


Converge = Callable[["DesiredState", "frozenset[str] | None", "Stopper"], Awaitable[PassReport]]


def default_converge(client: CodatClient) -> Converge:
    async def converge(
        desired: DesiredState, company_ids: frozenset[str] | None, stopper: Stopper
    ) -> PassReport:
        from reconcile.executor import execute
        from reconcile.live import read_live
        from reconcile.planner import PlanOptions, make_plan

        sent = client.requests_sent
        live = await read_live(client, desired)
        uids: frozenset[str] | None = None
        if company_ids is not None:
            uids = frozenset(c.uid for c in live.companies if c.id in company_ids and c.uid)
            uids &= {c.uid for c in desired.customers}
            if not uids:
                return PassReport(uids=uids, requests=client.requests_sent - sent)
        plan = make_plan(desired, live, PlanOptions(targets=uids or frozenset()))
        auto, waiting = split(plan)
        result = await execute(auto, client, stopper=stopper) if auto.has_changes else None
        return report(uids, result, waiting, client.requests_sent - sent)

    return converge


def split(plan: Plan) -> tuple[Plan, tuple[Waiting, ...]]:
    """The plan cut to what the policy pre-approves, and everything else as waiting.

    An allowed action waits too when an earlier one of the same customer waits for review: the
    executor runs a customer's actions in order, and they may depend on it."""
    waiting: list[Waiting] = []
    kept: list[CustomerChange] = []
    for change in plan.changes:
        if plan.unsafe is None and all(a.kind in AUTO_KINDS for a in change.actions):
            kept.append(change)
            continue
        waiting.extend(
            Waiting("review", change.uid, change.name, a.subject, f"{a.kind.value}: {a.reason}")
            for a in change.actions
        )
    for note in plan.notes:
        if note.kind in ("awaiting_authorization", "needs_reauthorization"):
            waiting.append(
                Waiting("customer", note.uid, note.name, note.subject, note.kind, note.since)
            )
    waiting.extend(Waiting("person", r.uid, r.name, r.subject, r.reason) for r in plan.refused)
    if plan.unsafe:
        waiting.append(Waiting("person", "", "", "the whole plan", plan.unsafe))
    return replace(plan, changes=tuple(kept)), tuple(waiting)


def report(
    uids: frozenset[str] | None,
    result: ApplyResult | None,
    waiting: tuple[Waiting, ...],
    requests: int,
) -> PassReport:
    applied: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    quota, resets_at, stopped = False, None, False
    if result is not None:
        for outcome in result.outcomes:
            kind = outcome.action.kind.value
            if outcome.status == "applied":
                applied[kind] += 1
            elif outcome.status != "not_started":
                failed[kind] += 1
        if result.stopped is not None and result.stopped.reason == "quota":
            quota, resets_at = True, result.stopped.resets_at
        stopped = result.stopped is not None and result.stopped.reason in (
            "interrupt",
            "terminate",
        )
    return PassReport(uids, applied, failed, waiting, quota, resets_at, stopped, requests)
