"""Carry out a Plan against Codat: per customer in order, customers in parallel.

Writes stay exactly-once through faults and concurrent runs (see `flow` for the one way every
action is sent): every POST/PATCH carries the plan's Idempotency-Key; after a write without a
usable answer the action's handler asks Codat whether it landed, and only a confirmed absence
after a 5xx is sent again under a fresh key; stale replays are sent again; a 4xx is checked
against the wanted state (done if it holds). Immediately before an unlink or delete, the
action's handler confirms Codat still holds what the plan saw; if not, the action is refused
and the rest of that customer skipped. A Linked connection is never deleted.

One handler per kind of action (`companies`, `connections`, `expenses`); scheduling, stops and
the result in `run` and `outcome`.
"""

from reconcile.executor.outcome import STATUSES, ApplyResult, Outcome, OutcomeStatus, Stop
from reconcile.executor.run import CustomerDone, Progress, Stopper, execute

__all__ = [
    "STATUSES",
    "ApplyResult",
    "CustomerDone",
    "Outcome",
    "OutcomeStatus",
    "Progress",
    "Stop",
    "Stopper",
    "execute",
]
