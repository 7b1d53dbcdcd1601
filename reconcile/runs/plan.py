"""The plan run: read Codat once (`reconcile.facts.fleet`), plan, and carry what was read.

`PlanRun` is what `plan` and `apply` show, what `plan --out` records (from the same read:
nothing is read twice) and what `plan --env all` sums up per environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from reconcile.runs.errors import RunError

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.desired import Checked
    from reconcile.facts.fleet import Listing
    from reconcile.model import DesiredState, LiveState
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan
    from reconcile.plans.settings import SettingsChange
    from reconcile.runs.connect import Where
    from reconcile.runs.saved_out import SavedRecord

# Called once Codat was read (the command line says what it read, before it plans).
OnRead = Callable[["DesiredState", "LiveState"], None]


@dataclass(frozen=True)
class PlanRun:
    """A plan and what it was made from: the desired state and Codat as it was read."""

    desired: DesiredState
    live: LiveState
    plan: Plan
    saved: SavedRecord | None = None  # `plan --out`: the signed document, from this read

    @property
    def settings(self) -> tuple[SettingsChange, ...]:
        """The account settings' changes of the run's environment (`plan` and `apply` only)."""
        return self.plan.settings

    @property
    def managed(self) -> int:
        return sum(1 for c in self.live.companies if c.owner == self.desired.owner)


async def plan_run(
    client: CodatClient,
    desired: DesiredState,
    options: PlanOptions,
    *,
    account: bool = False,
    on_read: OnRead | None = None,
    listing: Listing | None = None,
) -> PlanRun:
    """Read live Codat (with `account`, the key's account too: `LiveState.account`; the owner's
    list from `listing` when it was started already) and plan. `--target` naming a customer
    neither the files nor Codat know is a `RunError` (after `on_read`)."""
    from reconcile.bulk import paused_gc, settled
    from reconcile.facts.fleet import read_live
    from reconcile.planner import make_plan

    with settled():  # the desired model is not walked while the pages are read
        live = await read_live(
            client,
            desired,
            options.targets,
            changed=options.changed,
            account=account,
            listing=listing,
        )
    if on_read is not None:
        on_read(desired, live)
    unknown: set[str] = set()
    if options.targets:  # no index of every uid otherwise (100,000 of each side)
        known = {c.uid for c in desired.customers} | {c.uid for c in live.companies if c.uid}
        unknown = set(options.targets - known)
    if unknown:
        raise RunError(f"--target names unknown customer(s): {', '.join(sorted(unknown))}")
    with paused_gc():  # the plan of a fleet holds no cycles (`reconcile.bulk`)
        made = make_plan(desired, live, options)
    return PlanRun(desired, live, made)


async def with_settings(client: CodatClient, run: PlanRun, options: PlanOptions) -> PlanRun:
    """The run with the account settings' changes of its environment in its plan (two
    requests, only when the environment names `settings:`; none without an environment). A
    webhook consumer moved to another host is refused, in the plan's refusals, unless
    `--max-destroy` covers it with the plan's other destroys."""
    if run.desired.environment is None:
        return run
    from dataclasses import replace

    from reconcile.planner.guard import destroyed_count
    from reconcile.planner.settings import allow_redirects
    from reconcile.runs.settings import planned_settings

    found = await planned_settings(client, run.desired)
    if not found:
        return run
    env = run.desired.environment
    kept, refused = allow_redirects(found, env, destroyed_count(run.plan, run.live), options)
    plan = replace(run.plan, settings=kept, refused=(*run.plan.refused, *refused))
    return replace(run, plan=plan)


def without_link_urls(plan: Plan) -> Plan:
    """The plan with its notes' Link URLs left out: what `plan` shows unless asked, and all a
    saved plan (a CI artifact) ever holds. Applying needs none of them."""
    from dataclasses import replace

    if not any(n.link_url for n in plan.notes):
        return plan
    return replace(plan, notes=tuple(n.without_link() for n in plan.notes))


def refuse_unsafe(run: PlanRun) -> PlanRun:
    """A plan refused as a whole ends the run with the reason."""
    if run.plan.unsafe:
        raise RunError(f"plan refused: {run.plan.unsafe}")
    return run


# How often the model's build thread hands the interpreter to the loop while the listing is out
# (Python's default: every 5 ms). Each send and each answer of the loop otherwise waits up to
# that long for the thread to let go: a 10,000-customer plan's three page requests left ~80 ms
# after the first.
BUILD_SWITCH_SECONDS = 0.0005
# Seconds the build waits for the listing's first requests to be written: their first
# connection's imports, connects and writes then have the interpreter to themselves
# (`reconcile.codat.outbox`); bounded, as a request may wait for its pace.
WRITE_WAIT_SECONDS = 0.5


async def built_while_listing(
    client: CodatClient, checked: Checked, options: PlanOptions
) -> tuple[DesiredState, Listing]:
    """The model of the checked files, built (in a thread) while Codat prepares the owner's
    first pages, from the moment their requests are written: the files' owner is known before
    their 100,000 customers are built.

    Before the thread starts, the client's transport is built (its imports would otherwise
    compete with the build for the interpreter, ahead of the first request) and, when the files
    have expense configs to read, the wire is told so (`CodatClient.foresee`: the lean wire's
    import starts now, beside the build, rather than after it)."""
    import asyncio
    import sys

    from reconcile.facts.fleet import listing_written, start_listing

    client.prepare()
    if not options.targets and options.changed is None:  # else `read_live` foresees them
        client.foresee(checked.configured)
    listing = start_listing(client, checked.owner, checked.customer_count)
    await listing_written(client, listing, WRITE_WAIT_SECONDS)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, BUILD_SWITCH_SECONDS))
    try:
        desired = await asyncio.to_thread(checked.build)
    except BaseException:  # pragma: no cover - checked files build
        listing.task.cancel()
        raise
    finally:
        sys.setswitchinterval(switch)
    return desired, listing


async def plan(
    where: Where,
    desired: DesiredState | Checked,
    options: PlanOptions,
    *,
    on_read: OnRead | None = None,
    allow_unsafe: bool = False,
    save_for: timedelta | None = None,
) -> PlanRun:
    """`reconcile plan`: the plan run against `where`, with the key's account always read
    (beside the listing) and shown; with `save_for`, also the signed saved plan valid that long
    (`PlanRun.saved`), recorded from the same read, without Link URLs, so `plan --out` costs
    what `plan` costs; with an environment, the account settings' changes too
    (`PlanRun.settings`).
    `desired` may be files checked but not built (`reconcile.cli.inputs.check_desired`): they
    are built while Codat answers the first list request.
    A plan refused as a whole ends the run unless `allow_unsafe` (it is then never saved)."""
    from reconcile.desired import Checked  # not the model: it is built while Codat answers

    if isinstance(desired, Checked):
        return await _plan(where, None, desired, options, on_read, allow_unsafe, save_for)
    return await _plan(where, desired, None, options, on_read, allow_unsafe, save_for)


async def _plan(
    where: Where,
    built: DesiredState | None,
    checked: Checked | None,
    options: PlanOptions,
    on_read: OnRead | None,
    allow_unsafe: bool,
    save_for: timedelta | None,
) -> PlanRun:
    from reconcile.runs.connect import open_client

    async with open_client(where, desired=built) as client:
        listing = None
        if built is None:
            assert checked is not None
            built, listing = await built_while_listing(client, checked, options)
        made = await plan_run(
            client, built, options, account=True, on_read=on_read, listing=listing
        )
        run = await with_settings(client, made, options)
        if not allow_unsafe:
            refuse_unsafe(run)
        if save_for is None or run.plan.unsafe:
            return run
        from dataclasses import replace

        from reconcile.runs.saved_out import record

        bare = replace(run, plan=without_link_urls(run.plan))
        return replace(run, saved=await record(client, bare, where, save_for))
