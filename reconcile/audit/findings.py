"""The audit's pure part: (desired, every live company, the plan, now) -> findings. No I/O.

`changes`, `follow_ups` and `refused` are the plan itself (the planner decides; nothing here
re-implements a rule), sorted by `reconcile.converge.classify` (the one home of "who must act"):
an action `policy.auto` pre-approves is a follow-up converge applies, any other waits for a
review; each carries its field-level diff (deepdiff). Each finding is counted once: a duplicate
or a foreign `id:` is not also a refusal, an orphan the plan acts on is its changes, and one
it refuses is its refusal.
Awaiting and re-authorization findings are the planner's notes too (so they name exactly the
connections plan lists); their age is measured from the connection's `created` to `now`
(Codat's clock at the read). Everything else reads the whole account's companies:

- duplicates: >= 2 companies with the owner tag and the same uid;
- orphans: owner tag, but a uid no file lists (or no uid tag at all);
- unmanaged look-alikes: no owner tag, a name equal to a customer's (case-insensitively, after
  Codat's name stripping), not already named by that customer's `id:`;
- foreign: a customer's `id:` names a company tagged with another owner;
- connection errors: every Active `dataConnectionErrors` entry on a connection of a managed
  company (or of one a customer adopts with `id:`), except a transient 429 or 5xx.

Live Codat may change after the read: the findings describe the one read they came from, and the
audit writes nothing, so a change in between can only make the next audit differ.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from reconcile.audit.diff import describe_diff, field_diff
from reconcile.audit.model import Finding, FindingKind
from reconcile.converge.classify import classify, is_transient, policy_kind
from reconcile.durations import format_age, format_duration
from reconcile.model import Company, Customer, DesiredState, Policy, parse_time
from reconcile.planner.duplicates import describe_duplicate, describe_twins, order_twins, twin_facts
from reconcile.plans import Action, CustomerChange, Kind, Note, Plan


def audit_findings(
    desired: DesiredState,
    companies: Sequence[Company],
    plan: Plan,
    *,
    now: datetime,
    stale_after: timedelta,
    targets: frozenset[str] = frozenset(),
) -> tuple[Finding, ...]:
    """Every finding, each counted once, sorted most urgent kind first, then uid and company."""
    ctx = _Context(desired, companies)
    found: list[Finding] = []
    found.extend(_duplicates(ctx))
    found.extend(_foreign(ctx))
    # A duplicate or a foreign id is the planner's refusal too: said once, by its own kind
    # (a duplicate the file settles with `id:` is planned, so its changes are said too).
    said = {f.uid for f in found if f.uid is not None and not f.facts.get("named_by_id")}
    found.extend(_changes(plan, desired.policy, said))
    found.extend(_authorizations(ctx, plan, now, stale_after))
    found.extend(_orphans(ctx, plan))
    found.extend(_lookalikes(ctx))
    found.extend(_connection_errors(ctx))
    if targets:
        found = [f for f in found if f.uid in targets]
    return tuple(sorted(found, key=Finding.sort_key))


# Codat's company name pattern: it drops every other character from a name it is sent.
_NOT_IN_CODAT_NAME = re.compile(r"[^A-Za-z0-9\s\-',&@.?!]")


def codat_name_key(name: str) -> str:
    """A name as Codat stores it (characters outside its pattern dropped, trimmed), casefolded."""
    return _NOT_IN_CODAT_NAME.sub("", name).strip().casefold()


class _Context:
    def __init__(self, desired: DesiredState, companies: Sequence[Company]) -> None:
        self.owner = desired.owner
        self.desired = desired
        self.companies = companies
        self.by_id = {c.id: c for c in companies}
        self.customers = {c.uid: c for c in desired.customers}
        self.managed = [c for c in companies if c.owner == desired.owner]
        self.by_uid: dict[str, list[Company]] = defaultdict(list)
        for company in self.managed:
            if company.uid is not None:
                self.by_uid[company.uid].append(company)
        self.adopted = {c.id: c for c in desired.customers if c.id is not None}

    def name_of(self, uid: str | None, company: Company | None) -> str:
        customer = self.customers.get(uid) if uid else None
        if customer is not None:
            return customer.name
        return company.name if company else ""

    def company_of(self, uid: str) -> Company | None:
        customer = self.customers.get(uid)
        if customer is not None and customer.id is not None:
            return self.by_id.get(customer.id)
        matches = self.by_uid.get(uid, [])
        return matches[0] if len(matches) == 1 else None


# --------------------------------------------------------------------------- from the plan


def _changes(plan: Plan, policy: Policy, said: set[str]) -> Iterable[Finding]:
    """The plan's actions: ready follow-ups (what converge applies) and changes waiting for a
    review, each with its field-level diff; then its refusals (a person's)."""
    if plan.unsafe:
        yield Finding(
            FindingKind.REFUSED,
            None,
            "",
            None,
            f"plan refused as a whole: {plan.unsafe}",
            facts={"action": "refused_plan", "reason": plan.unsafe},
        )
    sorted_out = classify(plan, policy)
    by_uid = {c.uid: c for c in plan.changes}
    for change in sorted_out.auto.changes:
        for action in change.actions:
            kind = policy_kind(action, plan.owner, by_uid[change.uid])
            yield _action_finding(_kind(change, FindingKind.FOLLOW_UPS), change, action, kind)
    for wait in sorted_out.review:
        assert wait.action is not None and wait.uid is not None
        kind = wait.facts.get("policy_kind")
        finding = _action_finding(
            _kind(by_uid[wait.uid], FindingKind.CHANGES), by_uid[wait.uid], wait.action, kind
        )
        facts = {**finding.facts, "held_because": wait.facts.get("held_because")}
        yield replace(finding, facts=facts)
    for refusal in plan.refused:
        if refusal.uid in said:
            continue
        yield Finding(
            FindingKind.REFUSED,
            refusal.uid,
            refusal.name,
            None,
            f"refused {refusal.subject}: {refusal.reason}",
            facts={"action": "refused", "subject": refusal.subject, "reason": refusal.reason},
        )


def _kind(change: CustomerChange, otherwise: FindingKind) -> FindingKind:
    """Drift that cut a customer off is a person's to hear of (the customer must authorize
    again), with every action that restores that customer, whoever applies them."""
    return FindingKind.CUT_OFF if any(a.cuts_off_customer for a in change.actions) else otherwise


def _action_finding(
    kind: FindingKind, change: CustomerChange, action: Action, auto: str | None
) -> Finding:
    diff = field_diff(action.before, action.after)
    what = f"{action.kind.bucket} {action.subject}"
    shown = describe_diff(diff) if action.kind is Kind.UPDATE_COMPANY and diff else ""
    return Finding(
        kind,
        action.uid,
        change.name,
        action.company_id,
        f"{what}: {shown}" if shown else f"{what} ({action.reason})",
        facts={
            "action": action.kind.value,
            "bucket": action.kind.bucket,
            "verdict": change.verdict,
            "subject": action.subject,
            "reason": action.reason,
            "connection_id": action.connection_id,
            "status": action.status,
            "policy_kind": auto,
            "diff": diff,
            "request": {"method": action.request.method, "path": action.request.path},
        },
    )


def _authorizations(
    ctx: _Context, plan: Plan, now: datetime, stale_after: timedelta
) -> Iterable[Finding]:
    for note in plan.notes:
        company = ctx.company_of(note.uid)
        cid = company.id if company else None
        if note.kind == "needs_reauthorization":
            yield Finding(
                FindingKind.NEEDS_REAUTHORIZATION,
                note.uid,
                note.name,
                cid,
                f"{note.subject}: {note.text}",
                since=note.since or None,
                link_url=note.link_url or None,
                facts={"subject": note.subject},
            )
        elif note.kind == "awaiting_authorization":
            yield _awaiting(note, cid, now, stale_after)


def _awaiting(note: Note, cid: str | None, now: datetime, stale_after: timedelta) -> Finding:
    created = parse_time(note.since)
    age = now - created if created is not None else None
    stale = age is not None and age > stale_after
    if age is None:
        detail = f"{note.subject}: awaiting customer authorization (since unknown)"
    elif stale:
        detail = (
            f"{note.subject}: awaiting customer authorization for {format_age(age)} "
            f"(more than {format_duration(stale_after)})"
        )
    else:
        detail = f"{note.subject}: awaiting customer authorization for {format_age(age)}"
    return Finding(
        FindingKind.STALE_AUTHORIZATION if stale else FindingKind.AWAITING_AUTHORIZATION,
        note.uid,
        note.name,
        cid,
        detail,
        since=note.since or None,
        link_url=note.link_url or None,
        facts={
            "subject": note.subject,
            "age_seconds": int(age.total_seconds()) if age is not None else None,
        },
    )


# --------------------------------------------------------------------------- from the account


def _duplicates(ctx: _Context) -> Iterable[Finding]:
    """Each twin with its creation date and connections, the one holding the customer's
    connections first (that twin is the finding's company), and the way to resolve it."""
    for uid, twins in ctx.by_uid.items():
        if len(twins) < 2:
            continue
        ordered = order_twins(twins)
        customer = ctx.customers.get(uid)
        chosen = customer.id if customer is not None else None
        if chosen is not None and chosen in {t.id for t in ordered}:
            others = ", ".join(t.id for t in ordered if t.id != chosen)
            detail = (
                f"{len(ordered)} companies carry reconcile.uid={uid}: {describe_twins(ordered)}. "
                f"The file names {chosen} with id:, so plan manages that one and leaves {others} "
                "alone: delete it in the Codat portal (or remove its reconcile.uid tag)"
            )
        else:
            chosen = None
            detail = (
                "plan leaves this customer alone until a person resolves it. "
                + describe_duplicate(uid, ordered, in_file=customer is not None)
            )
        yield Finding(
            FindingKind.DUPLICATES,
            uid,
            ctx.name_of(uid, ordered[0]),
            ordered[0].id,
            detail,
            since=ordered[0].created,
            facts={
                "company_ids": [t.id for t in ordered],
                "twins": [twin_facts(t) for t in ordered],
                "keep": ordered[0].id,
                "named_by_id": chosen,
            },
        )


def _orphans(ctx: _Context, plan: Plan) -> Iterable[Finding]:
    """Managed companies no file lists that the plan neither acts on nor refuses (an orphan
    the plan acts on is its changes; one it refuses, its refusal): what the finding says the
    plan does is read from the plan (`plan_leaves`)."""
    acted_on = {a.company_id for a in plan.actions if a.company_id}
    refused = {r.uid for r in plan.refused}
    for company in ctx.managed:
        if company.id in ctx.adopted or company.id in acted_on:
            continue
        if company.uid is None:
            detail = (
                f'company "{company.name}" carries reconcile.owner={ctx.owner} but no '
                f"reconcile.uid tag: {plan_leaves(plan, company)}; give it a uid tag or adopt "
                "it with id:"
            )
        elif company.uid not in ctx.customers and company.uid not in refused:
            detail = (
                f'company "{company.name}" carries reconcile.uid={company.uid}, which no file '
                f"lists: {plan_leaves(plan, company)}"
            )
        else:
            continue
        yield Finding(
            FindingKind.ORPHANS,
            company.uid,
            company.name,
            company.id,
            detail,
            since=company.created,
            facts={"active_connections": sum(1 for c in company.connections if c.active)},
        )


def plan_leaves(plan: Plan, company: Company) -> str:
    """What the plan does about a company it has no action for, in words derived from the same
    plan: it changes nothing of it, and why, from what the company holds."""
    mine = [a for a in plan.actions if a.company_id == company.id]
    if mine:  # not an orphan finding (its changes say it); kept exact should a caller ask
        return "plan " + ", ".join(f"{a.kind.bucket}s {a.subject}" for a in mine)
    active = [c for c in company.connections if c.active]
    if not active:
        return "plan changes nothing of it (it holds no active connection)"
    held = ", ".join(f"{c.status} {c.label}" for c in active)
    return f"plan changes nothing of it (it keeps {held})"


def _lookalikes(ctx: _Context) -> Iterable[Finding]:
    by_name: dict[str, list[Customer]] = defaultdict(list)
    for customer in ctx.desired.customers:
        if customer.state == "present":
            by_name[codat_name_key(customer.name)].append(customer)
    for company in ctx.companies:
        if company.owner is not None or company.id in ctx.adopted:
            continue
        for customer in by_name.get(codat_name_key(company.name), ()):
            managed = ctx.company_of(customer.uid)
            if managed is not None and managed.owner == ctx.owner:
                hint = (
                    f"{customer.uid} already has company {managed.id}; this one may be a "
                    "duplicate made outside reconcile"
                )
            else:
                hint = f"to adopt it instead of creating a new company, add id: {company.id}"
            yield Finding(
                FindingKind.UNMANAGED_LOOKALIKES,
                customer.uid,
                customer.name,
                company.id,
                f'company "{company.name}" has no reconcile.owner tag and the name of '
                f"{customer.uid}: {hint}",
                since=company.created,
                facts={"company_name": company.name, "company_uid_tag": company.uid},
            )


def _foreign(ctx: _Context) -> Iterable[Finding]:
    for customer in ctx.desired.customers:
        if customer.id is None:
            continue
        company = ctx.by_id.get(customer.id)
        if company is None or company.owner in (None, ctx.owner):
            continue
        yield Finding(
            FindingKind.FOREIGN,
            customer.uid,
            customer.name,
            company.id,
            f'id: {company.id} names company "{company.name}", tagged reconcile.owner='
            f"{company.owner}: it is never taken over; fix the id or ask that owner",
            facts={"company_name": company.name, "company_owner": company.owner},
        )


def _connection_errors(ctx: _Context) -> Iterable[Finding]:
    watched = list(ctx.managed)
    watched.extend(
        ctx.by_id[cid] for cid in ctx.adopted if cid in ctx.by_id and ctx.by_id[cid].owner is None
    )
    for company in watched:
        uid = ctx.adopted[company.id].uid if company.id in ctx.adopted else company.uid
        for conn in company.connections:
            for error in (e for e in conn.errors if e.active and not is_transient(e)):
                code = " ".join(p for p in (error.status_code, error.status_text) if p)
                yield Finding(
                    FindingKind.CONNECTION_ERRORS,
                    uid,
                    ctx.name_of(uid, company),
                    company.id,
                    f"{conn.label} ({conn.status}): {code or 'error'}"
                    + (f": {error.message}" if error.message else ""),
                    since=error.errored_on_utc,
                    facts={
                        "connection_id": conn.id,
                        "connection_status": conn.status,
                        "status_code": error.status_code,
                        "status_text": error.status_text,
                        "message": error.message,
                    },
                )
