"""Who must act on each part of a plan: pure, no I/O. Converge, watch and audit all use it.

    sorted_out = classify(plan, policy, companies=live.companies, now=now)

- `sorted_out.auto`: the plan cut down to the actions `policy.auto` pre-approves (converge applies
  exactly that plan, through the executor);
- `review`: every other action, waiting for a reviewed apply (with the reason it is held);
- `customer`: connections awaiting (re-)authorization, with the age since the status changed;
- `person`: refusals, duplicates, a plan refused as a whole, and connection errors Codat reports
  (a transient 429 or 5xx is not one: the next read will tell).

An action the policy allows still waits when an earlier action of the same customer waits for a
review (other than a company update, which nothing later depends on): apply runs a customer's
actions in order, and a partner expense connection made before the accounting change it follows
would be made against the wrong state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconcile.model import (
    AUTO_ACCOUNTING_RECREATE,
    AUTO_COMPANY_RESTORE,
    AUTO_EXPENSE_CONFIG,
    AUTO_PARTNER_EXPENSE,
    AUTO_REFRESH_DATA,
    OWNER_TAG,
    UID_TAG,
    Company,
    Connection,
    ConnectionError_,
    Policy,
    Status,
    parse_time,
)
from reconcile.model.who import Waiting, WaitKind
from reconcile.plans import Action, CustomerChange, Kind, Note, Plan, Refusal

DUPLICATE_PREFIX = "duplicate"


@dataclass(frozen=True)
class Classified:
    auto: Plan  # what converge may apply now
    review: tuple[Waiting, ...] = ()
    customer: tuple[Waiting, ...] = ()
    person: tuple[Waiting, ...] = ()

    @property
    def waiting(self) -> tuple[Waiting, ...]:
        return (*self.customer, *self.review, *self.person)

    @property
    def needs_attention(self) -> bool:
        """Something waits for a review or a person (converge exits 2)."""
        return bool(self.review or self.person)


def policy_kind(action: Action, owner: str, change: CustomerChange | None = None) -> str | None:
    """The `policy.auto` name that would allow `action`, or None (it always waits for review)."""
    if action.kind is Kind.CREATE_PARTNER_EXPENSE:
        return AUTO_PARTNER_EXPENSE
    if action.kind is Kind.SET_EXPENSE_CONFIG:
        return AUTO_EXPENSE_CONFIG
    if action.kind is Kind.REFRESH_DATA:
        return AUTO_REFRESH_DATA
    if action.kind is Kind.CREATE_CONNECTION:
        # Re-creating on a company that exists, with nothing retired beside it: a platform
        # switch (it unlinks or deletes another connection) is a reviewed change.
        others = change.actions if change else ()
        if action.company_id is not None and not any(a.kind.destructive for a in others):
            return AUTO_ACCOUNTING_RECREATE
        return None
    if action.kind is Kind.UPDATE_COMPANY:
        # Restoring name, description or user tags of a company already carrying this owner's
        # tags; an adoption or re-adoption (the owner tag changes) is an identity decision.
        before = (action.before or {}).get("tags") or {}
        after = (action.after or {}).get("tags") or {}
        ownership = (OWNER_TAG, UID_TAG)
        if before.get(OWNER_TAG) == owner and all(before.get(k) == after.get(k) for k in ownership):
            return AUTO_COMPANY_RESTORE
        return None
    return None


def classify(
    plan: Plan,
    policy: Policy,
    *,
    companies: Sequence[Company] = (),
    now: datetime | None = None,
) -> Classified:
    auto_changes: list[CustomerChange] = []
    review: list[Waiting] = []
    for change in plan.changes:
        allowed, held = _split(change, plan, policy)
        if allowed:
            auto_changes.append(
                CustomerChange(
                    change.uid, change.name, change.verdict, change.company_id, tuple(allowed)
                )
            )
        review.extend(held)
    auto = Plan(
        owner=plan.owner,
        changes=tuple(auto_changes),
        notes=plan.notes,
        refused=plan.refused,
        warnings=plan.warnings,
        observed=plan.observed,
        observed_at=plan.observed_at,
        unsafe=plan.unsafe,
    )
    by_uid = {c.uid: c for c in companies if c.uid is not None and c.owner == plan.owner}
    customer = tuple(_customer_waits(plan.notes, by_uid, now))
    person = tuple(_person_waits(plan, companies, now))
    return Classified(auto, tuple(review), customer, person)


def _split(
    change: CustomerChange, plan: Plan, policy: Policy
) -> tuple[list[Action], list[Waiting]]:
    allowed: list[Action] = []
    held: list[Waiting] = []
    blocker: Action | None = None
    for action in change.actions:
        kind = policy_kind(action, plan.owner, change)
        if plan.unsafe is None and kind in policy.auto and blocker is None:
            allowed.append(action)
            continue
        if plan.unsafe is not None:
            why = "the plan is refused as a whole (see what waits for a person)"
        elif kind is None:
            why = "needs a reviewed apply (policy.auto cannot allow it)"
        elif kind not in policy.auto:
            why = f"needs a reviewed apply (add {kind} to policy.auto to pre-approve it)"
        else:
            assert blocker is not None
            why = f"follows {blocker.kind.value} {blocker.subject}, which waits for review"
        held.append(
            Waiting(
                "review",
                "change",
                change.uid,
                change.name,
                action.company_id,
                action.subject,
                f"{action.kind.bucket} {action.subject} ({action.reason}): {why}",
                action=action,
                facts={"policy_kind": kind, "held_because": why},
            )
        )
        if blocker is None and action.kind is not Kind.UPDATE_COMPANY:
            blocker = action
    return allowed, held


# --------------------------------------------------------------------------- the customer


def _customer_waits(
    notes: Iterable[Note], by_uid: Mapping[str, Company], now: datetime | None
) -> Iterable[Waiting]:
    for note in notes:
        if note.kind not in ("awaiting_authorization", "needs_reauthorization"):
            continue
        company = by_uid.get(note.uid)
        conn = _noted_connection(company, note) if company is not None else None
        since = note.since
        if note.kind == "needs_reauthorization" and conn is not None:
            since = _deauthorized_since(conn) or since
        age = _age(since, now)
        kind: WaitKind = note.kind
        yield Waiting(
            "customer",
            kind,
            note.uid,
            note.name,
            company.id if company else None,
            note.subject,
            note.text,
            since=since,
            age=age,
            # The connection to authorize, by id: its Link URL stays in the note (never here).
            facts={"connection_id": conn.id} if conn is not None else {},
        )


def _noted_connection(company: Company, note: Note) -> Connection | None:
    """The connection a note is about: the one whose Link URL it carries."""
    if not note.link_url:
        return None
    return next((c for c in company.connections if c.link_url == note.link_url), None)


def _deauthorized_since(conn: Connection) -> str | None:
    """When a Deauthorized connection changed status: Codat has no status time, so the latest
    error it reports on the connection (the failed refresh) stands in; else None."""
    if conn.status != Status.DEAUTHORIZED.value:
        return None
    times = [e.errored_on_utc for e in conn.errors if e.errored_on_utc]
    return max(times) if times else None


def _age(since: str | None, now: datetime | None) -> timedelta | None:
    start = parse_time(since)
    if start is None or now is None:
        return None
    return max(now - start, timedelta(0))


# --------------------------------------------------------------------------- a person


def is_transient(error: ConnectionError_) -> bool:
    """A 429 or a 5xx is Codat or the platform being busy, not something a person must fix."""
    code = (error.status_code or "").strip()
    return code == "429" or (len(code) == 3 and code.startswith("5") and code.isdigit())


def connection_problems(conn: Connection) -> tuple[ConnectionError_, ...]:
    """The active, non-transient errors of a connection: what a person must look at."""
    return tuple(e for e in conn.errors if e.active and not is_transient(e))


def _person_waits(
    plan: Plan, companies: Sequence[Company], now: datetime | None
) -> Iterable[Waiting]:
    if plan.unsafe:
        yield Waiting("person", "unsafe_plan", None, "", None, "plan", plan.unsafe)
    for refusal in plan.refused:
        yield _refusal(refusal)
    for company in companies:
        if company.owner != plan.owner:
            continue
        for conn in company.connections:
            for error in connection_problems(conn):
                code = " ".join(p for p in (error.status_code, error.status_text) if p)
                yield Waiting(
                    "person",
                    "connection_error",
                    company.uid,
                    company.name,
                    company.id,
                    conn.label,
                    f"{conn.label} ({conn.status}): {code or 'error'}"
                    + (f": {error.message}" if error.message else ""),
                    since=error.errored_on_utc,
                    age=_age(error.errored_on_utc, now),
                    facts={"connection_id": conn.id, "status_code": error.status_code},
                )


def _refusal(refusal: Refusal) -> Waiting:
    kind: WaitKind = "duplicate" if refusal.reason.startswith(DUPLICATE_PREFIX) else "refused"
    return Waiting(
        "person",
        kind,
        refusal.uid,
        refusal.name,
        None,
        refusal.subject,
        f"{refusal.subject}: {refusal.reason}",
    )
