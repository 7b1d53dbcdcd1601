"""Run a plan: customers in parallel (at most `parallelism` at once, so at most that many
requests in flight), each customer's actions in the plan's order.

A failed or refused action skips the rest of its customer; the run goes on. Once the run is
stopped (--fail-fast after a failure, Codat's daily quota used up, an interrupt), no action
starts: those in flight finish, and every action not sent is recorded as such.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from reconcile.executor.context import Context
from reconcile.executor.flow import QuotaStop, perform
from reconcile.executor.handler import parse_time
from reconcile.executor.outcome import ApplyResult, Outcome, OutcomeStatus, Stop
from reconcile.plans import CustomerChange, Kind, Plan

if TYPE_CHECKING:
    from reconcile.codat import CodatClient

Progress = Callable[[Outcome], None]
CustomerDone = Callable[[CustomerChange, list[Outcome]], None]

QUOTA_USED_UP = "Codat's daily quota is used up"


class Stopper:
    """Set once (from a signal handler, the quota or --fail-fast): no action starts after."""

    def __init__(self, on_stop: Callable[[Stop], None] | None = None) -> None:
        self.stop: Stop | None = None
        self._on_stop = on_stop

    def set(self, stop: Stop) -> None:
        if self.stop is None:
            self.stop = stop
            if self._on_stop is not None:
                self._on_stop(stop)


async def execute(
    plan: Plan,
    client: CodatClient,
    *,
    parallelism: int = 10,
    fail_fast: bool = False,
    progress: Progress | None = None,
    on_customer: CustomerDone | None = None,
    stopper: Stopper | None = None,
    absence_recheck_seconds: float = 1.0,
) -> ApplyResult:
    result = ApplyResult()
    gate = asyncio.Semaphore(max(1, parallelism))
    stopper = stopper or Stopper()
    ctx = Context(
        client,
        plan.owner,
        parse_time(plan.observed_at),
        plan.observed,
        absence_recheck_seconds,
    )

    def record(outcome: Outcome, outcomes: list[Outcome]) -> None:
        outcomes.append(outcome)
        result.outcomes.append(outcome)
        if progress is not None:
            progress(outcome)

    async def run_customer(change: CustomerChange) -> None:
        async with gate:
            company_id = change.company_id
            outcomes: list[Outcome] = []
            blocked: str | None = None
            for action in change.actions:
                if blocked is None and stopper.stop is not None:
                    blocked = _not_started(stopper.stop)
                if blocked is not None:
                    status: OutcomeStatus = (
                        "skipped" if _skips(stopper.stop, outcomes) else "not_started"
                    )
                    record(Outcome(action, status, company_id, blocked), outcomes)
                    continue
                try:
                    outcome = await perform(ctx, action, company_id)
                except QuotaStop as exc:
                    stopper.set(_quota_stop(exc))
                    blocked = QUOTA_USED_UP
                    record(Outcome(action, "not_started", company_id, blocked), outcomes)
                    continue
                record(outcome, outcomes)
                if outcome.status in ("failed", "refused"):
                    blocked = "an earlier action of this customer " + (
                        "failed" if outcome.status == "failed" else "was refused"
                    )
                    if fail_fast:
                        stopper.set(Stop("fail-fast", "--fail-fast: a failure stopped the run"))
                elif action.kind is Kind.CREATE_COMPANY:
                    company_id = outcome.company_id
            if on_customer is not None:
                on_customer(change, outcomes)

    await asyncio.gather(*(run_customer(change) for change in plan.changes))
    result.stopped = stopper.stop
    return result


def _skips(stop: Stop | None, outcomes: list[Outcome]) -> bool:
    """Skipped (a decision about this customer) rather than not started (the run stopped)."""
    return any(o.status in ("failed", "refused") for o in outcomes) or (
        stop is not None and stop.reason == "fail-fast"
    )


def _not_started(stop: Stop) -> str:
    if stop.reason == "quota":
        return QUOTA_USED_UP
    return stop.detail or stop.reason


def _quota_stop(exc: QuotaStop) -> Stop:
    return Stop("quota", QUOTA_USED_UP, exc.cause.limit, exc.cause.resets_at)
