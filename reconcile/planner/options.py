"""What a plan may do (the command line's flags) and the accumulator every rule writes into."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconcile.model import Company, Connection, Customer
from reconcile.plan_options import PlanOptions as PlanOptions  # its home: a leaf module
from reconcile.plans import (
    Action,
    CustomerChange,
    CustomerVerdict,
    Note,
    NoteKind,
    Refusal,
)

DESTROY_ABSOLUTE_THRESHOLD = 10
DESTROY_FRACTION_THRESHOLD = 0.25


class UnsafePlan(Exception):
    """The plan is refused as a whole; the message says why and which flag allows it."""


@dataclass
class Draft:
    """What the rules have decided so far; `reconcile.planner.make_plan` freezes it."""

    owner: str
    changes: list[CustomerChange] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    observed: dict[str, Company] = field(default_factory=dict)  # fingerprinted lazily

    def observe(self, company: Company) -> None:
        self.observed[company.id] = company

    def refuse(self, uid: str, name: str, subject: str, reason: str) -> None:
        self.refused.append(Refusal(uid, name, subject, reason))

    def refuse_customer(self, customer: Customer, subject: str, reason: str) -> None:
        self.refuse(customer.uid, customer.name, subject, reason)

    def note(
        self,
        kind: NoteKind,
        customer: Customer,
        subject: str,
        text: str,
        conn: Connection | None = None,
        since: str | None = None,
    ) -> None:
        """`since` defaults to the connection's creation date (right for a pending link)."""
        self.notes.append(
            Note(
                kind,
                customer.uid,
                customer.name,
                subject,
                text,
                conn.link_url if conn else None,
                since or (conn.created if conn else None),
            )
        )

    def change(
        self,
        uid: str,
        name: str,
        verdict: CustomerVerdict,
        company_id: str | None,
        actions: list[Action],
    ) -> None:
        if actions:
            self.changes.append(CustomerChange(uid, name, verdict, company_id, tuple(actions)))
