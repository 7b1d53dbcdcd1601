"""Where each customer stands after a pass, and what a person must act on: pure, no I/O.

    snapshot = snapshot_of(result, desired)   # a converge pass's result (PassResult)

A customer is `awaiting_authorization` or `needs_reauthorization` (the customer must act),
`onboarded` (its accounting connection is Linked and the partner expense connection and config it
asks for are made), `in_progress` (something else is still to do), `leaving` (its entry left the
file but its company still holds connections) or `offboarded`. Problems are what the team must
act on: refusals, duplicates, a refused plan, connection errors, deauthorizations, entries that
left the file. `secrets` are the ids of companies awaiting (re-)authorization: never shown to the
team (Codat's company Link URL is made of one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reconcile.model import Company, Status
from reconcile.plans import Kind

if TYPE_CHECKING:
    from reconcile.converge import PassResult
    from reconcile.model import DesiredState

State = Literal[
    "awaiting_authorization",
    "needs_reauthorization",
    "onboarded",
    "in_progress",
    "leaving",
    "offboarded",
]
WAITING_STATES: frozenset[str] = frozenset({"awaiting_authorization", "needs_reauthorization"})
_SETUP_KINDS = frozenset(
    {Kind.CREATE_CONNECTION, Kind.CREATE_PARTNER_EXPENSE, Kind.SET_EXPENSE_CONFIG}
)


@dataclass(frozen=True)
class About:
    """The customer a fact or a partner event is about, as Codat knows it."""

    uid: str
    name: str
    platform: str | None = None
    company_id: str | None = None
    connection_id: str | None = None  # the connection to authorize (its Link URL is read later)


@dataclass(frozen=True, kw_only=True)
class CustomerFact(About):
    state: State
    since: str | None = None


@dataclass(frozen=True)
class Problem:
    """Something a person must act on; `key` stays the same while the problem lasts."""

    key: str
    kind: str
    uid: str | None
    name: str
    text: str


@dataclass(frozen=True)
class Snapshot:
    uids: frozenset[str] | None  # the customers the pass covered (None: every one)
    customers: tuple[CustomerFact, ...] = ()
    problems: tuple[Problem, ...] = ()
    secrets: frozenset[str] = frozenset()

    def covers(self, uid: str | None) -> bool:
        return self.uids is None or (uid is not None and uid in self.uids)


def snapshot_of(result: PassResult, desired: DesiredState) -> Snapshot:
    owner = desired.owner
    live = result.live
    companies = [c for c in (live.companies if live else ()) if c.owner == owner and c.uid]
    by_uid: dict[str, Company] = {}
    for found in companies:
        by_uid.setdefault(found.uid or "", found)
    scope = None if result.scope is None else frozenset(by_uid)
    waits = {w.uid: w for w in result.classified.customer if w.uid}
    applied = {
        (o.action.uid, o.action.kind) for o in result.applied.outcomes if o.status == "applied"
    }
    remaining = {
        (a.uid, a.kind)
        for change in result.plan.changes
        for a in change.actions
        if (a.uid, a.kind) not in applied
    }
    customers: list[CustomerFact] = []
    problems: list[Problem] = []
    present = {c.uid: c for c in desired.customers if c.state == "present"}
    for uid, customer in present.items():
        if scope is not None and uid not in scope:
            continue
        company = by_uid.get(uid)
        wait = waits.get(uid)
        if wait is not None and company is not None:
            wanted = wait.facts.get("connection_id")
            conn = next((c for c in company.connections if c.id == wanted), None)
            state: State = (
                "needs_reauthorization"
                if wait.kind == "needs_reauthorization"
                else "awaiting_authorization"
            )
            platform = conn.platform.name if conn and conn.platform else wait.subject
            customers.append(
                CustomerFact(
                    uid,
                    customer.name,
                    platform,
                    company.id,
                    conn.id if conn else None,
                    state=state,
                    since=wait.since,
                )
            )
            if state == "needs_reauthorization":
                problems.append(
                    Problem(
                        f"deauthorized:{uid}",
                        "deauthorized",
                        uid,
                        customer.name,
                        f"the customer must re-authorize {platform} (its access was revoked)",
                    )
                )
            continue
        done = company is not None and not any((uid, k) in remaining for k in _SETUP_KINDS)
        if done and company is not None and customer.accounting is not None:
            done = any(
                c.is_accounting and c.status == Status.LINKED.value for c in company.connections
            )
        customers.append(
            CustomerFact(
                uid,
                customer.name,
                _platform(company),
                company.id if company else None,
                state="onboarded" if done else "in_progress",
            )
        )
    for uid, company in by_uid.items():
        if uid in present:
            continue
        active = any(c.active for c in company.connections)
        customers.append(
            CustomerFact(
                uid, company.name, _platform(company), state="leaving" if active else "offboarded"
            )
        )
    listed = {c.uid for c in desired.customers}
    for w in result.classified.person:
        # The planner refuses to offboard an entry that left the file: that is what it is.
        left = w.kind == "refused" and w.uid is not None and w.uid not in listed
        kind = "left_file" if left else w.kind
        problems.append(Problem(f"{kind}:{w.uid}:{w.subject}", kind, w.uid, w.name, w.detail))
    secrets = frozenset(
        c.company_id for c in customers if c.state in WAITING_STATES and c.company_id
    )
    return Snapshot(scope, tuple(customers), tuple(problems), secrets)


def _platform(company: Company | None) -> str | None:
    if company is None:
        return None
    for conn in company.connections:
        if conn.is_accounting and conn.platform is not None:
            return conn.platform.name
    return None
