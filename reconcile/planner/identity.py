"""Which live company is a customer's: identity is defended, not assumed (docs/design.md §4).

Tags can be edited in Codat's portal behind the tool's back, so before a company is created the
live read has looked for any company carrying the customer's `reconcile.uid`, whatever its owner
tag (`LiveState.uid_holders`):

- none: the company is created;
- one without an owner tag: it is re-adopted (the plan restores the owner tag and says why);
- one tagged with another owner: refused (never taken over);
- several: a duplicate, refused until a person resolves it.

Edited uid tags that land on another company's identity are caught in `reconcile.planner.twins`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from reconcile.model import OWNER_TAG, UID_TAG, Company, Customer, LiveState, Status
from reconcile.planner.actions import connection_subject
from reconcile.planner.options import Draft


@dataclass(frozen=True)
class Match:
    """A customer's live company (None: none exists) and how it was found."""

    company: Company | None
    readopt: bool = False  # found by its uid tag, its owner tag gone


SKIP = None  # `resolve` returns this for "ambiguous or refused: do not touch this customer"


class Index:
    """Live companies by uid and id, for one owner."""

    def __init__(self, owner: str, live: LiveState, draft: Draft) -> None:
        self.owner = owner
        self.live = live
        self.draft = draft
        self.managed = [c for c in live.companies if c.owner == owner]
        self.by_uid: dict[str, list[Company]] = defaultdict(list)
        self.no_uid: list[Company] = []
        for company in self.managed:
            if company.uid is not None:
                self.by_uid[company.uid].append(company)
            else:
                self.no_uid.append(company)
        self.by_id = {c.id: c for c in live.companies}
        for holders in live.uid_holders.values():
            for company in holders:
                self.by_id.setdefault(company.id, company)

    def resolve(self, customer: Customer) -> Match | None:
        """The customer's Match, or SKIP after recording why it is refused."""
        matches = self.by_uid.get(customer.uid, [])
        if customer.id is not None:
            return self._adopted(customer, matches)
        if len(matches) > 1:
            self._duplicate(customer, matches)
            return SKIP
        if matches:
            return Match(matches[0])
        return self._by_uid_tag(customer)

    def _adopted(self, customer: Customer, matches: list[Company]) -> Match | None:
        assert customer.id is not None
        adopted = self.by_id.get(customer.id)
        refuse = self.draft.refuse_customer
        if adopted is None:
            refuse(customer, "company", f"id {customer.id} names no Codat company; fix the id")
            return SKIP
        if adopted.owner not in (None, self.owner):
            refuse(
                customer,
                "company",
                f"company {adopted.id} is tagged {OWNER_TAG}={adopted.owner}; "
                "it is never taken over",
            )
            return SKIP
        if adopted.uid not in (None, customer.uid):
            refuse(
                customer, "company", f"company {adopted.id} already carries {UID_TAG}={adopted.uid}"
            )
            return SKIP
        others = [m.id for m in matches if m.id != adopted.id]
        if others:
            refuse(
                customer,
                "company",
                f"duplicate: {', '.join(others)} also carries {UID_TAG}={customer.uid} "
                f"besides adopted {adopted.id}; resolve by hand",
            )
            return SKIP
        return Match(adopted)

    def _by_uid_tag(self, customer: Customer) -> Match | None:
        """No company of this owner: is there one carrying the uid whose owner tag changed?"""
        holders = [c for c in self.live.uid_holders.get(customer.uid, ()) if c.owner != self.owner]
        foreign = [c for c in holders if c.owner is not None]
        if foreign:
            owners = ", ".join(f"{c.id} ({OWNER_TAG}={c.owner})" for c in foreign)
            self.draft.refuse_customer(
                customer,
                "company",
                f"not created: {owners} already carries {UID_TAG}={customer.uid} for another "
                "owner; it is never taken over. If it is this customer's, fix its tags in Codat; "
                "otherwise choose another uid",
            )
            return SKIP
        if len(holders) > 1:
            self._duplicate(customer, holders)
            return SKIP
        if holders:
            return Match(holders[0], readopt=True)
        return Match(None)

    def _duplicate(self, customer: Customer, companies: Iterable[Company]) -> None:
        twins = list(companies)
        ids = ", ".join(c.id for c in twins)
        self.draft.refuse_customer(
            customer,
            "company",
            f"duplicate: companies {ids} all carry {UID_TAG}={customer.uid}; "
            "this customer is not touched until a person resolves it. " + describe_twins(twins),
        )


def describe_twins(twins: Iterable[Company]) -> str:
    """Each twin with its creation date and connections, so a person can tell them apart."""
    return "; ".join(describe_company(c) for c in twins)


def describe_company(company: Company) -> str:
    held = [
        f"{c.status} {connection_subject(c)}"
        for c in company.connections
        if c.status != Status.UNLINKED.value
    ]
    created = f"created {company.created}" if company.created else "creation date not given"
    return f'{company.id} "{company.name}" ({created}): ' + (
        ", ".join(held) if held else "no connections"
    )
