"""The converge run: one pass (`reconcile.converge.run_pass`) under the shared signal handling.

Exit codes: 0 nothing waits for a review or a person (the customer may still have to
authorize); 2 something does, or an allowed action did not land; 1 the daily quota ran out;
130 / 143 after SIGINT / SIGTERM (nothing new starts, what is in flight finishes; a second
signal exits at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconcile.converge import PassResult
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.runs.connect import Where
    from reconcile.runs.notify import Log, Notifying

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


async def converge(
    where: Where,
    desired: DesiredState,
    *,
    company_ids: tuple[str, ...],
    options: PlanOptions,
    parallelism: int,
    at_once: Callable[[int], None] | None = None,
    notify: Notifying | None = None,
    log: Log | None = None,
) -> PassResult:
    """One pass against `where` (the whole fleet, or just `company_ids` read fresh); with
    `notify`, then what the pass changed is told (`log` hears the notifier)."""
    from reconcile.converge import run_pass
    from reconcile.executor import Stopper
    from reconcile.runs.connect import open_client
    from reconcile.runs.signals import on_signals

    stopper = Stopper()
    restore = on_signals(stopper.set, at_once=at_once)
    try:
        async with open_client(where, desired=desired) as client:
            result = await run_pass(
                desired,
                client,
                company_ids=company_ids or None,
                options=options,
                parallelism=parallelism,
                stopper=stopper,
            )
            if notify is not None:
                from reconcile.runs.notify import notify_pass

                await notify_pass(notify, client, desired, result, log or (lambda line: None))
            return result
    finally:
        restore()


def exit_code(result: PassResult) -> int:
    from reconcile.runs.signals import stopped_code

    stop = result.applied.stopped
    code = stopped_code(stop)
    if code is not None:
        return code
    if stop is not None:
        return EXIT_ERROR  # the quota ran out: this pass could not do its job
    return EXIT_CHANGES if result.needs_attention else EXIT_OK
