"""Customers on their way out: offboarding (`state: absent`, or gone from every file) and
deletion (`state: deleted`).

Offboarding is explicit for Linked customers: a company whose entry left every file keeps its
Linked connections, and the plan reports it (a difference for `--detailed-exitcode`) until the
file says `state: absent`; only its PendingAuth connections are deleted (that cuts no one off).
`policy: {prune: true}` offboards it as `state: absent` would. Connections the file cannot name
(another platform, another source type) are never unlinked or deleted here.

A company tagged `reconcile.protect=true` is never unlinked or deleted, whether its customer is
in the file, absent, or gone, until a file says `protect: false` for its uid: that plan removes
the tag, and only a later plan (after that one is applied) may destroy anything. A protected
company whose entry has left the file is reported as any entry that left the file is (a
refusal: a difference for `--detailed-exitcode`, blocking under `--base`), its protection named.
"""

from __future__ import annotations

from reconcile.model import PROTECT_TAG, PROTECT_VALUE, Company, Customer, Status
from reconcile.planner import actions as build
from reconcile.planner.options import Draft, PlanOptions
from reconcile.planner.protection import Protection
from reconcile.plans import Action, CustomerVerdict


class Retire:
    def __init__(self, owner: str, options: PlanOptions, draft: Draft, prune: bool = False) -> None:
        self.owner = owner
        self.options = options
        self.draft = draft
        self.prune = prune

    def gone(self, company: Company) -> None:
        """A managed company whose uid is in no file: offboard it (unless protected)."""
        uid = company.uid or ""
        self.draft.observe(company)
        if company.protected:
            self.draft.refuse(
                uid,
                company.name,
                "offboarding",
                left_protected(uid, company),
            )
            return
        if self.prune:
            self._offboard(
                uid, company.name, company, Protection(False), "not in the file (policy: prune)"
            )
            return
        linked = [c for c in company.connections if c.nameable and c.status == Status.LINKED]
        pending = [c for c in company.connections if c.nameable and c.status == Status.PENDING_AUTH]
        if linked:
            labels = ", ".join(f"Linked {build.connection_subject(c)}" for c in linked)
            self.draft.refuse(
                uid,
                company.name,
                "offboarding",
                f"{uid} left the file: to offboard, write `state: absent` for it; that unlinks "
                f"{labels}. Nothing of it is unlinked until then (or set policy: {{prune: true}})",
            )
        actions = [
            build.retire_connection(self.owner, uid, company.id, c, "offboarding: not in the file")
            for c in pending
        ]
        self.draft.change(uid, company.name, "offboard", company.id, actions)

    def absent(self, customer: Customer, company: Company) -> None:
        self.draft.observe(company)
        protection = Protection.of(customer, company)
        actions = self._unprotect(customer, company)
        self._offboard(customer.uid, customer.name, company, protection, "state: absent", actions)

    def deleted(self, customer: Customer, company: Company) -> None:
        self.draft.observe(company)
        protection = Protection.of(customer, company)
        subject = f'company {company.id} "{company.name}"'
        actions = self._unprotect(customer, company)
        if protection.active:
            reason = (
                "protect: true forbids deleting the company"
                if customer.protect
                else protection.reason
            )
            self.draft.refuse_customer(customer, subject, reason)
        elif not self.options.allow_delete:
            self.draft.refuse_customer(
                customer, subject, "state: deleted needs --allow-delete to delete a company"
            )
        elif unnamed := [c for c in company.connections if c.active and not c.nameable]:
            held = ", ".join(f"{c.status} {build.connection_subject(c)}" for c in unnamed)
            self.draft.refuse_customer(
                customer,
                subject,
                f"not deleted: the company holds {held}, which the file cannot name and this "
                "tool never removes; unlink or delete it in Codat first, then plan again",
            )
        else:
            actions.append(build.delete_company(customer.uid, company, "state: deleted"))
        deleting = any(a.kind.bucket == "delete" for a in actions)
        verdict: CustomerVerdict = "delete" if deleting else "update"
        self.draft.change(customer.uid, customer.name, verdict, company.id, actions)

    def _unprotect(self, customer: Customer, company: Company) -> list[Action]:
        """`protect: false` on a protected company: the first step removes the tag."""
        if not (company.protected and customer.unprotect):
            return []
        tags = {k: v for k, v in company.tags.items() if k != PROTECT_TAG}
        return [
            build.retag_company(
                customer.uid,
                company,
                tags,
                f"protect: false removes {PROTECT_TAG}; unlink and delete wait for a later plan",
            )
        ]

    def _offboard(
        self,
        uid: str,
        name: str,
        company: Company,
        protection: Protection,
        why: str,
        actions: list[Action] | None = None,
    ) -> None:
        actions = actions or []
        for conn in company.connections:
            if not (conn.active and conn.nameable):
                continue
            action = build.retire_connection(
                self.owner, uid, company.id, conn, f"offboarding: {why}"
            )
            if protection.active:
                self.draft.refuse(uid, name, action.subject, protection.reason)
            else:
                actions.append(action)
        self.draft.change(uid, name, "offboard", company.id, actions)


def left_protected(uid: str, company: Company) -> str:
    """Why a protected company whose entry left every file keeps everything, and what to do."""
    held = [c for c in company.connections if c.nameable and c.active]
    keeps = ", ".join(f"{c.status} {build.connection_subject(c)}" for c in held)
    return (
        f"{uid} left the file, but company {company.id} is protected ({PROTECT_TAG}="
        f"{PROTECT_VALUE}): nothing of it is unlinked"
        + (f" (it keeps {keeps})" if keeps else "")
        + ". Put the customer back in the file, or add it with protect: false and state: absent "
        "to offboard it in two applies"
    )
