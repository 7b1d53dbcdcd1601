"""The reconciliation rules (docs/design.md §5), as one pure function:
(desired, live, options) -> Plan.

No I/O, no click, no httpx: everything the planner needs is in its arguments. The rules live in
small modules by concern: `identity` (which company is a customer's, defended against edited
tags), `present` (company, accounting, partner expense, config), `retire` (offboarding, deletion,
protection) and `guard` (whole-plan safety). Whole-plan refusals are data (`Plan.unsafe`), so a
refused plan can still be shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from reconcile.model import (
    OWNER_TAG,
    UID_TAG,
    Company,
    Customer,
    DesiredState,
    LiveState,
)
from reconcile.planner import guard
from reconcile.planner.actions import connection_subject
from reconcile.planner.duplicates import describe_duplicate
from reconcile.planner.guard import active_connections
from reconcile.planner.identity import SKIP, Index, Match
from reconcile.planner.options import (
    DESTROY_ABSOLUTE_THRESHOLD,
    DESTROY_FRACTION_THRESHOLD,
    Draft,
    PlanOptions,
    UnsafePlan,
)
from reconcile.planner.present import LINKED, Present
from reconcile.planner.retire import Retire
from reconcile.planner.twins import hold_probable_edits
from reconcile.plans import Fingerprints, Plan

__all__ = [
    "DESTROY_ABSOLUTE_THRESHOLD",
    "DESTROY_FRACTION_THRESHOLD",
    "PlanOptions",
    "UnsafePlan",
    "active_connections",
    "make_plan",
]

CONFIGS_NOT_READ = (
    "Expense configs of {n:,} unchanged customer{s} were not read (a pull request's plan reads "
    "only what it changes); config drift is reported by `audit` and restored by `converge`."
)
CONFIG_CANNOT_BE_CLEARED = (
    "{n} customer(s) had an expenseConfig in the base files and have none now (e.g. {uid}): "
    "Codat cannot clear an expense config, so removing expenseConfig from the file changes "
    "nothing in Codat"
)


def make_plan(desired: DesiredState, live: LiveState, options: PlanOptions | None = None) -> Plan:
    options = options or PlanOptions()
    owner = desired.owner
    draft = Draft(owner, warnings=list(live.warnings))
    index = Index(owner, live, draft, {m.new: m.old for m in desired.moved})
    for company in index.no_uid:
        draft.warnings.append(
            f'company {company.id} "{company.name}" is tagged {OWNER_TAG}={owner} but has no '
            f"{UID_TAG} tag; left alone"
        )
    unsafe = guard.empty_file(owner, len(desired.customers), len(index.managed), options)

    targeted: Sequence[Customer] = (
        [c for c in desired.customers if c.uid in options.targets]
        if options.targets
        else desired.customers
    )
    matches: dict[str, Match] = {}
    for customer in targeted:
        match = index.resolve(customer)
        if match is not SKIP:
            matches[customer.uid] = match

    by_uid = {c.uid: c for c in desired.customers}
    leaving = _leaving(index.managed, by_uid, desired, matches, options)
    creates = [
        c
        for c in targeted
        if (m := matches.get(c.uid)) is not None and m.company is None and c.state == "present"
    ]
    held = hold_probable_edits(creates, leaving + index.no_uid, index, by_uid, matches, draft)

    present = Present(owner, live, draft, existed=options.existed)
    retire = Retire(owner, options, draft, prune=desired.policy.prune)
    held_uids = held.uids
    for customer in targeted:
        match = matches.get(customer.uid)
        if match is None or customer.uid in held_uids:
            continue
        if customer.state == "present":  # the usual case, without a call more
            present.plan(customer, match)
        else:
            _customer(customer, match, present, retire, draft)
    for company in leaving:
        if company.id in held.company_ids:
            continue
        twins = index.by_uid[company.uid or ""]
        if len(twins) > 1:
            if company is twins[0]:
                draft.refuse(
                    company.uid or "",
                    company.name,
                    "offboarding",
                    "duplicate: nothing is unlinked until a person resolves it. "
                    + describe_duplicate(company.uid or "", twins, in_file=False),
                )
            continue
        retire.gone(company)
    _config_note(targeted, options, draft)
    _unnamed_note(
        [m.company for u, m in matches.items() if m.company is not None and u not in held.uids]
        + leaving,
        draft,
    )

    plan = Plan(
        owner=owner,
        changes=tuple(draft.changes),
        notes=tuple(draft.notes),
        refused=tuple(draft.refused),
        warnings=tuple(draft.warnings),
        observed=Fingerprints(draft.observed),
        observed_at=live.read_at,
        not_read=_not_read(live),
        linked=_linked(live),
    )
    unsafe = unsafe or guard.destroy(plan, live, index.managed, options)
    quota = guard.quota(plan, live)
    if quota or unsafe:
        plan = Plan(
            owner=plan.owner,
            changes=plan.changes,
            notes=plan.notes,
            refused=plan.refused,
            warnings=(*plan.warnings, *([quota] if quota else [])),
            observed=plan.observed,
            observed_at=plan.observed_at,
            unsafe=unsafe,
            not_read=plan.not_read,
            linked=plan.linked,
        )
    return plan


def _leaving(
    managed: Sequence[Company],
    customers: Mapping[str, Customer],
    desired: DesiredState,
    matches: Mapping[str, Match],
    options: PlanOptions,
) -> list[Company]:
    """Managed companies whose uid left every file (and that no customer claims, by `id:`)."""
    # A uid a `moved:` entry renames is the file's still: its company is retagged (or the
    # move refused), never offboarded as an entry that left the file.
    renamed = {m.old for m in desired.moved}
    gone = [
        c
        for c in managed
        if (uid := c.uid) is not None
        and uid not in customers
        and uid not in renamed
        and options.targeted(uid)
    ]
    if not gone:  # the usual case: no set of every matched company is needed
        return gone
    claimed = {m.company.id for m in matches.values() if m.company is not None}
    return [c for c in gone if c.id not in claimed]


def _not_read(live: LiveState) -> str | None:
    """The one line that says which configs a pull request's plan left unread, and who covers
    them; None when it read every one."""
    n = live.configs_not_read
    return CONFIGS_NOT_READ.format(n=n, s="" if n == 1 else "s") if n else None


def _linked(live: LiveState) -> frozenset[str]:
    """The companies an accounting platform is linked to (their ids are no Link URL)."""
    return frozenset(_linked_ids(live.companies))


def _linked_ids(companies: Iterable[Company]) -> Iterator[str]:
    """Plain loops over every company's connections, the status (a field) asked first."""
    for company in companies:
        for c in company.connections:
            if c.status == LINKED and c.is_accounting:
                yield company.id
                break


def _customer(
    customer: Customer, match: Match, present: Present, retire: Retire, draft: Draft
) -> None:
    company = match.company
    if customer.state == "present":
        present.plan(customer, match)
        return
    if company is None:
        return
    if company.owner != draft.owner:
        draft.observe(company)
        draft.refuse_customer(
            customer,
            f"company {company.id}",
            f"state: {customer.state} acts only on companies this owner manages; this one "
            "is not tagged yet (adopt it first with state: present)",
        )
    elif customer.state == "deleted":
        retire.deleted(customer, company)
    else:
        retire.absent(customer, company)


UNNAMED_SHOWN = 5


def _unnamed_note(companies: list[Company], draft: Draft) -> None:
    """Connections the file cannot name (another platform, another source type) are never
    unlinked or deleted: said once per plan, with the first few."""
    seen: dict[str, None] = {}
    for company in companies:
        for conn in company.connections:
            if conn.active and not conn.nameable:
                label = f"{company.uid or company.id} {conn.status} {connection_subject(conn)}"
                seen[label] = None
    if not seen:
        return
    shown = ", ".join(list(seen)[:UNNAMED_SHOWN])
    more = f" and {len(seen) - UNNAMED_SHOWN} more" if len(seen) > UNNAMED_SHOWN else ""
    draft.warnings.append(
        f"{len(seen)} connection(s) on a platform or of a kind the file cannot name are left as "
        f"they are (never unlinked or deleted by reconcile): {shown}{more}"
    )


def _config_note(targeted: Sequence[Customer], options: PlanOptions, draft: Draft) -> None:
    """Said once per plan, as a count, and only when true: an expenseConfig this change removes
    (the base files had one) cannot be removed from Codat, so removing it is a no-op."""
    if not options.had_config:  # no base files, or none with a config: no customer is walked
        return
    without = [
        c.uid
        for c in targeted
        if c.state == "present" and c.expense_config is None and c.uid in options.had_config
    ]
    if without:
        draft.warnings.append(CONFIG_CANNOT_BE_CLEARED.format(n=len(without), uid=without[0]))
