"""The apply run: plan the files and, once approved, execute; or execute a plan made already.

Exit codes (chosen here, shown by the command line): 0 everything applied; 1 something failed,
was refused or skipped, or Codat's daily quota ran out; 2 with `detailed_exitcode` when
everything applied but the plan holds refusals; 130 after SIGINT, 143 after SIGTERM
(`reconcile.runs.signals`: the first one starts nothing new, a second one exits at once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.executor import ApplyResult, Stop
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan
    from reconcile.render.progress import Progress
    from reconcile.runs.connect import Where
    from reconcile.runs.plan import OnRead, PlanRun
    from reconcile.runs.saved_apply import RunPlan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
TICK_SECONDS = 1.0

# Called with the plan, its result and the exit code once the run ended.
OnDone = Callable[["Plan", "ApplyResult", int], None]


async def apply_plan(
    plan: Plan,
    client: CodatClient,
    *,
    parallelism: int,
    fail_fast: bool,
    progress: Progress,
    stop_note: Callable[[Stop], str],
    at_once: Callable[[int], None],
    on_done: OnDone,
    detailed_exitcode: bool = False,
) -> int:
    """Execute an already-made (and already approved) plan: `progress` hears every outcome,
    and `stop_note(stop)` when the run stops starting new work (a signal, the quota,
    --fail-fast); `at_once` speaks before a second signal ends the process, `on_done` hears the
    result; returns the exit code."""
    from reconcile.executor import Stopper, execute
    from reconcile.runs.signals import on_signals

    stopper = Stopper(on_stop=lambda stop: progress.note(stop_note(stop)))
    progress.start(len(plan.actions))
    restore = on_signals(stopper.set, at_once=at_once)
    ticker = asyncio.create_task(_tick(progress))
    try:
        result = await execute(
            plan,
            client,
            parallelism=parallelism,
            fail_fast=fail_fast,
            progress=progress.action,
            on_customer=progress.customer,
            stopper=stopper,
        )
    finally:
        ticker.cancel()
        restore()
        progress.finish()
    code = exit_code(result)
    if code == EXIT_OK and detailed_exitcode and plan.refused:
        code = EXIT_CHANGES  # applied, but the file wants what safety refused
    on_done(plan, result, code)
    return code


def runner(
    *,
    parallelism: int,
    fail_fast: bool,
    progress: Callable[[], Progress],
    stop_note: Callable[[Stop], str],
    at_once: Callable[[int], None],
    on_done: OnDone,
    detailed_exitcode: bool = False,
) -> RunPlan:
    """`apply_plan` with these settings, as the runs of `apply` and `apply --plan` take it (a
    fresh `progress()` each time)."""

    async def run_plan(plan: Plan, client: CodatClient) -> int:
        return await apply_plan(
            plan,
            client,
            parallelism=parallelism,
            fail_fast=fail_fast,
            progress=progress(),
            stop_note=stop_note,
            at_once=at_once,
            on_done=on_done,
            detailed_exitcode=detailed_exitcode,
        )

    return run_plan


def exit_code(result: ApplyResult) -> int:
    from reconcile.runs.signals import stopped_code

    code = stopped_code(result.stopped)
    if code is not None:
        return code
    return EXIT_OK if result.ok else EXIT_ERROR


async def _tick(progress: Progress) -> None:
    while True:
        await asyncio.sleep(TICK_SECONDS)
        progress.tick()


async def apply_files(
    where: Where,
    desired: DesiredState,
    options: PlanOptions,
    run_plan: RunPlan,
    *,
    approve: Callable[[PlanRun], bool],
    on_read: OnRead | None = None,
    prompted: bool = False,
    on_settings: Callable[[int], None] | None = None,
) -> tuple[PlanRun, int | None]:
    """`apply PATHS...`: plan (a plan refused as a whole ends the run) with the account
    settings' changes of the run's environment, hand the plan run to `approve` (which shows it)
    and, when it has changes and is approved, make the settings' changes first (new links fetch
    by them; `on_settings` hears how many), then run the plan with `run_plan`: the plan run and
    the exit code (None: nothing was run). `prompted`: the approval waited on a person, whose
    time is not Codat's (`--timeout` restarts)."""
    from reconcile.runs.connect import open_client
    from reconcile.runs.plan import plan_run, refuse_unsafe, with_settings

    async with open_client(where, desired=desired) as client:
        made = refuse_unsafe(await plan_run(client, desired, options, on_read=on_read))
        made = await with_settings(client, made, options)
        if not approve(made):
            return made, None
        if prompted:
            client.restart_deadline()
        if made.settings:
            from reconcile.executor.settings import apply_settings

            await apply_settings(client, made.settings)
            if on_settings is not None:
                on_settings(len(made.settings))
            if not made.plan.has_changes:
                return made, EXIT_OK
        return made, await run_plan(made.plan, client)
