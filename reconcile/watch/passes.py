"""What the scheduler needs from one converge pass, and the pass it runs by default.

The scheduler is given a `Converge`: `await converge(desired, company_ids, stopper, full)` runs
one pass (the whole fleet when `company_ids` is None: every expense config read when `full`,
else the resync's reads, `reconcile.watch.resync`; or just those companies, read fresh) and
returns a `PassReport`. Tests may inject their own; the command uses `default_converge`, which
is `reconcile converge`'s own pass (`reconcile.converge.run_pass`): it applies only what the
file's `policy.auto` pre-approves, with the executor's idempotency keys (a re-run after a crash
replays instead of duplicating), and says who must act on everything else.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar

from reconcile.model.who import Waiting

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.converge import PassResult
    from reconcile.executor import Stopper
    from reconcile.health import Health
    from reconcile.model import DesiredState
    from reconcile.model.onboarding import Onboarding
    from reconcile.watch.resync import ResyncReads

HEALTH_EVERY_SECONDS = 86_400
R_co = TypeVar("R_co", covariant=True)


@dataclass(frozen=True)
class Done:
    """One action a pass sent, for the log and the customer's timeline."""

    uid: str
    kind: str
    subject: str
    outcome: str  # applied, failed, ...
    detail: str = ""


@dataclass(frozen=True)
class PassReport:
    """What one pass did. `company_ids`: the companies it covered (None: the whole fleet)."""

    company_ids: frozenset[str] | None
    applied: Counter[str] = field(default_factory=Counter)  # by action kind
    failed: Counter[str] = field(default_factory=Counter)  # by action kind
    waiting: tuple[Waiting, ...] = ()
    quota_stopped: bool = False  # Codat's daily quota stopped the pass
    quota_resets_at: datetime | None = None  # when it resets, if Codat said
    stopped: bool = False  # a signal stopped it: what it did not start is left for later
    requests: int = 0
    done: tuple[Done, ...] = ()  # what was sent, action by action (not_started left out)
    # Where the pass saw each customer it read in the funnel (None: not known)
    onboarding: tuple[Onboarding, ...] | None = None
    # company id -> uid of the companies it read (kept inside the watch, never shown)
    companies: Mapping[str, str] = field(default_factory=dict)
    # Linked customers by health state, when this pass read health (daily, with refresh_data)
    health: Mapping[str, int] | None = None
    # and each one's health, as read at Codat's clock (the status page; None: not read)
    healths: tuple[Health, ...] | None = None
    health_read_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.quota_stopped


class Pass(Protocol[R_co]):
    """One pass: the whole fleet (`company_ids` None; `full`: every expense config read, else
    the resync's listing, what changed and the sweep's slice) or just those companies."""

    def __call__(
        self,
        desired: DesiredState,
        company_ids: frozenset[str] | None,
        stopper: Stopper,
        full: bool = True,
    ) -> Awaitable[R_co]: ...


# What the scheduler runs (its report), and what a `Converge` runs: the pass itself, its whole
# result (the notifier reads it).
Converge: TypeAlias = Pass["PassReport"]
PassRunner: TypeAlias = Pass["PassResult"]


def pass_runner(client: CodatClient, reads: ResyncReads | None = None) -> PassRunner:
    """`reconcile converge`'s pass, as the watch runs it: with `reads`, a resync reads the
    listing, what changed and the sweep's slice (`reconcile.watch.resync`), and what every pass
    found is kept there."""
    health_read_at: list[float] = []  # when a full pass last read health (monotonic)

    async def run(
        desired: DesiredState,
        company_ids: frozenset[str] | None,
        stopper: Stopper,
        full: bool = True,
    ) -> PassResult:
        from reconcile.converge import run_pass

        # Health (the status page, /metrics, refresh_data) costs a read per Linked company: only
        # a pass of the whole fleet reads it, at most once per HEALTH_EVERY_SECONDS (daily).
        now = time.monotonic()
        health = company_ids is None and (
            not health_read_at or now - health_read_at[-1] >= HEALTH_EVERY_SECONDS
        )
        choice = reads.choice(full=full) if reads is not None and company_ids is None else None
        try:
            result = await run_pass(
                desired,
                client,
                company_ids=company_ids,
                stopper=stopper,
                health=health,
                choose=choice,
            )
        finally:
            if reads is not None:
                reads.budget.sample()
        if health:
            health_read_at[:] = [now]
        if reads is not None:
            reads.after(choice, result)
        return result

    return run


class PassObserver(Protocol):
    """Told of each pass a `reporting` Converge runs (the watch's notifier)."""

    def failed(self, exc: Exception) -> None:
        """The pass raised `exc` (raised again after this)."""

    def passed(self, result: PassResult, desired: DesiredState, report: PassReport) -> None:
        """The pass ended: its whole result and its report."""


def reporting(run: PassRunner, observer: PassObserver | None = None) -> Converge:
    """The scheduler's pass: `run`, its result reported (and told to `observer`)."""

    async def converge(
        desired: DesiredState,
        company_ids: frozenset[str] | None,
        stopper: Stopper,
        full: bool = True,
    ) -> PassReport:
        try:
            result = await run(desired, company_ids, stopper, full)
        except Exception as exc:
            if observer is not None:
                observer.failed(exc)
            raise
        passed = report(result, desired)
        if observer is not None:
            observer.passed(result, desired, passed)
        return passed

    return converge


def default_converge(client: CodatClient, reads: ResyncReads | None = None) -> Converge:
    return reporting(pass_runner(client, reads))


def report(result: PassResult, desired: DesiredState | None = None) -> PassReport:
    """The scheduler's view of `reconcile converge`'s result."""
    applied: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    done: list[Done] = []
    for outcome in result.applied.outcomes:
        kind = outcome.action.kind.value
        if outcome.status == "applied":
            applied[kind] += 1
        elif outcome.status != "not_started":
            failed[kind] += 1
        if outcome.status != "not_started":
            action = outcome.action
            done.append(Done(action.uid, kind, action.subject, outcome.status, outcome.detail))
    stop = result.applied.stopped
    rows, companies = _read(result, desired)
    # What waits, as converge sorted it (never a Link URL: see reconcile.model.who).
    waiting = result.classified.waiting
    return PassReport(
        company_ids=result.scope,
        applied=applied,
        failed=failed,
        waiting=waiting,
        quota_stopped=stop is not None and stop.reason == "quota",
        quota_resets_at=stop.resets_at if stop is not None and stop.reason == "quota" else None,
        stopped=stop is not None and stop.reason in ("interrupt", "terminate"),
        requests=result.requests,
        done=tuple(done),
        onboarding=rows,
        companies=companies,
        health=result.health,
        healths=result.healths,
        health_read_at=result.read_at if result.healths is not None else None,
    )


def _read(
    result: PassResult, desired: DesiredState | None
) -> tuple[tuple[Onboarding, ...] | None, dict[str, str]]:
    """The funnel and the company ids of what the pass read (a pass of some companies: only
    their customers)."""
    live = result.live
    if live is None or desired is None:
        return None, {}
    from reconcile.facts.onboarding import after_pass, onboarding

    companies: dict[str, str] = {
        c.id: c.uid for c in live.companies if c.uid and c.owner == desired.owner
    }
    applied: dict[str, set[str]] = {}
    for outcome in result.applied.outcomes:
        if outcome.status == "applied":
            applied.setdefault(outcome.action.uid, set()).add(outcome.action.kind.value)
    rows = after_pass(onboarding(desired, live), {uid: frozenset(k) for uid, k in applied.items()})
    if result.scope is not None:
        seen = set(companies.values())
        rows = tuple(r for r in rows if r.uid in seen)
    return rows, companies
