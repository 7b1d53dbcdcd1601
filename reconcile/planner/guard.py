"""Whole-plan safety: the blast-radius guard, the empty-file guard, and the daily quota.

The guard counts what is destroyed: an unlink or a connection delete counts one, a company
delete counts every active connection it holds (at least one).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconcile.model import Company, LiveState, Status
from reconcile.planner.options import (
    DESTROY_ABSOLUTE_THRESHOLD,
    DESTROY_FRACTION_THRESHOLD,
    PlanOptions,
)
from reconcile.plans import Kind, Plan

AFFECTED_SHOWN = 10  # a refusal names this many customers, then counts the rest


def active_connections(companies: Iterable[Company]) -> int:
    return sum(1 for company in companies for c in company.connections if c.active)


def empty_file(owner: str, customers: int, managed: int, options: PlanOptions) -> str | None:
    if customers or not managed or options.allow_empty:
        return None
    return (
        f"the input lists no customers but owner {owner} has {managed} live companies: "
        "applying it would offboard all of them. If that is what you want, pass --allow-empty."
    )


def destroy(
    plan: Plan, live: LiveState, managed: list[Company], options: PlanOptions
) -> str | None:
    """A refusal when the plan destroys too much, or None.

    Two rules. Absolute, whatever the fleet's size: more than DESTROY_ABSOLUTE_THRESHOLD
    Linked-connection unlinks or company deletes (what cuts customers off). Relative, for small
    fleets: more than DESTROY_ABSOLUTE_THRESHOLD destroyed connections that are also more than
    DESTROY_FRACTION_THRESHOLD of the owner's active connections. `--max-destroy N` allows a
    plan that destroys at most N connections."""
    destroyed, linked, cutting, customers = _count(plan, live)
    if destroyed <= DESTROY_ABSOLUTE_THRESHOLD:  # neither rule (cutting <= destroyed): no count
        return None
    active = active_connections(managed)
    absolute = cutting > DESTROY_ABSOLUTE_THRESHOLD
    relative = destroyed > DESTROY_FRACTION_THRESHOLD * active
    if not (absolute or relative):
        return None
    if options.max_destroy is not None and destroyed <= options.max_destroy:
        return None
    why = (
        f"more than {DESTROY_ABSOLUTE_THRESHOLD} Linked-connection unlinks or company deletes "
        f"({cutting})"
        if absolute
        else f"more than {DESTROY_ABSOLUTE_THRESHOLD} and more than "
        f"{int(DESTROY_FRACTION_THRESHOLD * 100)}% of the owner's {active} active connections"
    )
    return (
        f"the plan would destroy {destroyed} connections (unlinks, deletes, and every active "
        f"connection of a deleted company), affecting {len(customers)} customers and {linked} "
        f"Linked connections: {why}. Customers affected: {_capped(list(customers))}. "
        f"Check the input; if this is intended, pass --max-destroy {destroyed}."
    )


def destroyed_count(plan: Plan, live: LiveState) -> int:
    """What the plan destroys, counted as the guard counts it (`--max-destroy` compares)."""
    return _count(plan, live)[0]


def _count(plan: Plan, live: LiveState) -> tuple[int, int, int, dict[str, None]]:
    """(destroyed connections, Linked ones, Linked unlinks and company deletes, customers)."""
    by_id: dict[str, Company] | None = None  # only when a company is deleted
    destroyed = 0
    linked = 0
    cutting = 0  # Linked unlinks and company deletes: the absolute rule's count
    customers: dict[str, None] = {}
    for action in plan.actions:
        if not action.kind.destructive:
            continue
        customers[action.uid] = None
        if action.kind is Kind.DELETE_COMPANY:
            if by_id is None:
                by_id = {c.id: c for c in live.companies}
            company = by_id.get(action.company_id or "")
            held = [c for c in company.connections if c.active] if company else []
            destroyed += max(1, len(held))
            linked += sum(1 for c in held if c.status == Status.LINKED.value)
            cutting += 1
        else:
            destroyed += 1
            is_linked = action.status == Status.LINKED.value
            linked += is_linked
            cutting += is_linked
    return destroyed, linked, cutting, customers


def _capped(uids: list[str]) -> str:
    shown = ", ".join(uids[:AFFECTED_SHOWN])
    more = len(uids) - AFFECTED_SHOWN
    return f"{shown} and {more} more ({len(uids)} in all)" if more > 0 else shown


def requests_needed(plan: Plan) -> int:
    """Requests apply will send: one per write, one more per destructive action (the check of
    the state the plan saw, right before it)."""
    return sum(2 if a.kind.destructive else 1 for a in plan.actions)


def quota(plan: Plan, live: LiveState) -> str | None:
    """A warning when the plan needs more requests than Codat allows today."""
    remaining = live.rate_limit_remaining
    needed = requests_needed(plan)
    if remaining is None or needed <= remaining:
        return None
    limit = f" of {live.rate_limit_limit}" if live.rate_limit_limit is not None else ""
    reset = f"; the quota resets at {live.rate_limit_reset}" if live.rate_limit_reset else ""
    return (
        f"this plan needs about {needed} requests but Codat allows {remaining} more today"
        f"{limit}{reset}: apply will stop when the quota runs out and can be run again after "
        "the reset"
    )
