"""One converge pass: read Codat, plan, apply only what `policy.auto` pre-approves.

    result = await run_pass(desired, client)                        # the whole fleet
    result = await run_pass(desired, client, company_ids={"8a1..."})  # one company, read fresh

Safe at any frequency and beside a reviewed apply or another pass: it never creates a company
(so no uid can gain a second one), and every write it sends carries the plan's idempotency key,
derived from the live state it was planned against, so two passes that saw the same state send
the same key and Codat replays the second instead of doing it twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from reconcile.converge.classify import Classified, classify
from reconcile.executor import ApplyResult, Progress, Stopper, execute
from reconcile.executor.outcome import Outcome
from reconcile.facts.configs import ConfigChoice
from reconcile.facts.few import read_few
from reconcile.facts.fleet import read_live
from reconcile.model import AUTO_REFRESH_DATA, DesiredState, LiveState
from reconcile.planner import PlanOptions, make_plan
from reconcile.plans import Plan

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.health import Health


@dataclass(frozen=True)
class PassResult:
    """What one pass read, decided and did."""

    plan: Plan
    classified: Classified
    applied: ApplyResult = field(default_factory=ApplyResult)
    requests: int = 0  # every request of the pass: reads and writes
    companies_read: int = 0
    read_at: datetime | None = None  # Codat's clock at the read
    scope: frozenset[str] | None = None  # the company ids asked for (None: the whole fleet)
    live: LiveState | None = None  # what was read (notifications and the status page use it)
    # With refresh_data: the Linked customers read, by health state (None: health not read)
    health: dict[str, int] | None = None
    healths: tuple[Health, ...] | None = None  # and each one's health (the status page)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        """Actions sent but not done (failed, refused, skipped, not started)."""
        return tuple(o for o in self.applied.outcomes if o.status != "applied")

    @property
    def needs_attention(self) -> bool:
        """Something waits for a review or a person, or an allowed action did not land."""
        return self.classified.needs_attention or bool(self.failed)


async def run_pass(
    desired: DesiredState,
    client: CodatClient,
    *,
    company_ids: Iterable[str] | None = None,
    options: PlanOptions | None = None,
    parallelism: int = 10,
    stopper: Stopper | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
    health: bool | None = None,
    choose: ConfigChoice | None = None,
) -> PassResult:
    """Converge the fleet (or, with `company_ids`, just those companies, read fresh).

    Raises what the client raises when Codat cannot be read (`CodatError`); failures of single
    writes are in the result. `dry_run` classifies without writing (what audit shows).
    With `policy.auto: [refresh_data]` (`health=None`), or `health=True` (the watch's daily
    read, whatever the policy), the pass also reads the health of the Linked companies it covers
    (`health=False`: not this pass), and with refresh_data refreshes those at risk. `choose`
    (a pass of the whole fleet): which expense configs to read fresh (the watch's resync)."""
    sent_before = client.requests_sent
    health_counts: dict[str, int] | None = None
    healths: tuple[Health, ...] | None = None
    scope = frozenset(company_ids) if company_ids is not None else None
    options = options or PlanOptions()
    if scope is None:
        live = await read_live(client, desired, options.targets, choose=choose)
        targets = options.targets
    else:
        live, targets = await read_few(client, desired, scope)
        if options.targets:
            targets &= options.targets
    now = client.server_time or datetime.now(UTC)
    refresh_data = AUTO_REFRESH_DATA in desired.policy.auto
    if health or (health is None and refresh_data):
        from reconcile.facts.health import read_refresh_due

        every = desired.policy.refresh_data_every
        found = await read_refresh_due(
            client,
            desired,
            live,
            now,
            refresh_every=every,
            refresh_data=refresh_data,
            references=bool(health),  # the watch's daily read: the whole health model
        )
        live = replace(
            live,
            refresh_due=found.due,
            refresh_held=found.held,
            warnings=(*live.warnings, *found.warnings),
        )
        health_counts, healths = found.counts, found.healths
    if scope is not None and not targets:
        plan = Plan(owner=desired.owner, observed_at=live.read_at)
    else:
        plan = make_plan(desired, live, _with_targets(options, targets))
    classified = classify(plan, desired.policy, companies=live.companies, now=now)
    applied = ApplyResult()
    if classified.auto.has_changes and not dry_run:
        applied = await execute(
            classified.auto,
            client,
            parallelism=parallelism,
            progress=progress,
            stopper=stopper,
        )
    return PassResult(
        plan=plan,
        classified=classified,
        applied=applied,
        requests=client.requests_sent - sent_before,
        companies_read=_managed(live, desired.owner),
        read_at=now,
        scope=scope,
        live=live,
        health=health_counts,
        healths=healths,
    )


def _with_targets(options: PlanOptions, targets: frozenset[str]) -> PlanOptions:
    return PlanOptions(
        allow_delete=options.allow_delete,
        allow_empty=options.allow_empty,
        max_destroy=options.max_destroy,
        targets=targets,
    )


def _managed(live: LiveState, owner: str) -> int:
    return sum(1 for c in live.companies if c.owner == owner)
