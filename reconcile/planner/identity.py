"""Which live company is a customer's: identity is defended, not assumed (docs/design.md §4).

Tags can be edited in Codat's portal behind the tool's back, so before a company is created the
live read has looked for any company carrying the customer's `reconcile.uid`, whatever its owner
tag (`LiveState.uid_holders`):

- none: the company is created;
- one without an owner tag: it is re-adopted (the plan restores the owner tag and says why);
- one tagged with another owner: refused (never taken over);
- several: a duplicate, refused until a person resolves it.

A uid the owner's companies carry is duplicated too when a company without an owner tag carries
it as well (the read looks that up when a create has the name of such a company: see
`reconcile.facts.holders.namesakes`); a company of another owner is never a twin.

Edited uid tags that land on another company's identity are caught in `reconcile.planner.twins`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from reconcile.model import OWNER_TAG, UID_TAG, Company, Customer, LiveState
from reconcile.planner.duplicates import describe_duplicate
from reconcile.planner.options import Draft


@dataclass(slots=True)
class Match:
    """A customer's live company (None: none exists) and how it was found. One per customer,
    never changed once made (not frozen: a frozen dataclass's `__init__` costs three times as
    much, 10,000 times a plan)."""

    company: Company | None
    readopt: bool = False  # found by its uid tag, its owner tag gone
    moved_from: str | None = None  # found by the old uid of a `moved:` entry: retagged


SKIP = None  # `resolve` returns this for "ambiguous or refused: do not touch this customer"


class Index:
    """Live companies by uid and id, for one owner."""

    def __init__(
        self, owner: str, live: LiveState, draft: Draft, moved: Mapping[str, str] | None = None
    ) -> None:
        self.owner = owner
        self.moved = moved or {}  # new uid -> old uid (`moved:`)
        self.live = live
        self.draft = draft
        # The tags read directly (`Company.owner`, `.uid`): every company of the fleet.
        self.managed = [c for c in live.companies if c.tags.get(OWNER_TAG) == owner]
        # A tuple each (a list each was 12 MB at 100,000 companies); twins are rare.
        self.by_uid: dict[str, tuple[Company, ...]] = {}
        self.no_uid: list[Company] = []
        self.twinned = False  # whether any uid is carried twice
        by_uid = self.by_uid
        for company in self.managed:
            uid = company.tags.get(UID_TAG)
            if uid is None:
                self.no_uid.append(company)
            elif uid in by_uid:
                by_uid[uid] = (*by_uid[uid], company)
                self.twinned = True
            else:
                by_uid[uid] = (company,)
        # Companies without an owner tag that carry a uid the owner's companies carry: twins.
        self.unowned: dict[str, tuple[Company, ...]] = {
            uid: unowned
            for uid, holders in live.uid_holders.items()
            if uid in by_uid and (unowned := tuple(c for c in holders if c.owner is None))
        }
        self._by_id: dict[str, Company] | None = None

    def twin_sets(self) -> Iterator[tuple[str, tuple[Company, ...]]]:
        """Each duplicated uid with its twins: the owner's companies that carry it, then those
        without an owner tag that carry it too."""
        unowned = self.unowned
        if self.twinned:  # else no uid of the owner's is carried twice: nothing to walk
            for uid, twins in self.by_uid.items():
                if len(twins) > 1 and uid not in unowned:
                    yield uid, twins
        for uid, more in unowned.items():
            yield uid, (*self.by_uid[uid], *more)

    @property
    def by_id(self) -> Mapping[str, Company]:
        """Live companies (and uid holders) by id, built when a customer names one with `id:`."""
        if self._by_id is None:
            self._by_id = {c.id: c for c in self.live.companies}
            for holders in self.live.uid_holders.values():
                for company in holders:
                    self._by_id.setdefault(company.id, company)
        return self._by_id

    def resolve(self, customer: Customer) -> Match | None:
        """The customer's Match, or SKIP after recording why it is refused."""
        matches = self.by_uid.get(customer.uid, ())
        old = self.moved.get(customer.uid)
        if old is not None and self.by_uid.get(old):
            return self._moved(customer, old, matches)
        if customer.id is not None:
            return self._adopted(customer, matches)
        if self.unowned and customer.uid in self.unowned:
            matches = (*matches, *self.unowned[customer.uid])
        if len(matches) > 1:
            self._duplicate(customer, matches)
            return SKIP
        if matches:
            return Match(matches[0])
        return self._by_uid_tag(customer)

    def _adopted(self, customer: Customer, matches: Sequence[Company]) -> Match | None:
        assert customer.id is not None
        adopted = self.by_id.get(customer.id)
        refuse = self.draft.refuse_customer
        if adopted is None:
            refuse(customer, "company", f"id {customer.id} names no Codat company; fix the id")
            return SKIP
        if (reason := self._not_adoptable(customer, adopted)) is not None:
            refuse(customer, "company", reason)
            return SKIP
        others = [m for m in matches if m.id != adopted.id]
        if others and any(m.id == adopted.id for m in matches):
            # `id:` names one twin of a duplicate: the file says which is the customer's.
            self.draft.warnings.append(
                f"{', '.join(c.id for c in others)} also carries {UID_TAG}={customer.uid}; the "
                f"file names {adopted.id} with id:, so the other twin is left alone: delete it "
                f"in the Codat portal (or remove its {UID_TAG} tag)"
            )
            return Match(adopted)
        if others:
            refuse(
                customer,
                "company",
                f"duplicate: {', '.join(c.id for c in others)} also carries "
                f"{UID_TAG}={customer.uid} "
                f"besides adopted {adopted.id}; resolve by hand",
            )
            return SKIP
        return Match(adopted)

    def _not_adoptable(self, customer: Customer, adopted: Company) -> str | None:
        """Why the company `id:` names cannot be the customer's (another owner's, or another
        customer's), or None when it can."""
        if adopted.owner not in (None, self.owner):
            return (
                f"company {adopted.id} is tagged {OWNER_TAG}={adopted.owner}; "
                "it is never taken over"
            )
        if adopted.uid not in (None, customer.uid):
            return (
                f"company {adopted.id} already carries {UID_TAG}={adopted.uid}; if this "
                f"customer's uid was renamed, say so in the file: moved: [{{from: "
                f"{adopted.uid}, to: {customer.uid}}}]"
            )
        return None

    def _moved(self, customer: Customer, old: str, matches: Sequence[Company]) -> Match | None:
        """`moved: {from: old, to: customer}` while a company still carries the old uid: that
        company is this customer's, retagged (nothing created, nothing unlinked)."""
        holders = self.by_uid[old]
        taken = [
            *matches,
            *(c for c in self.live.uid_holders.get(customer.uid, ()) if c.owner != self.owner),
        ]
        refuse = self.draft.refuse_customer
        olds = ", ".join(c.id for c in holders)
        if taken:
            news = ", ".join(f'{c.id} "{c.name}"' for c in taken)
            refuse(
                customer,
                "company",
                f"moved from {old} not applied: company {news} already carries {UID_TAG}="
                f"{customer.uid} and {olds} carries {UID_TAG}={old}; retagging would give two "
                f"companies one uid. If {taken[0].id} is this customer's, remove the moved "
                f"entry (and list {old} with state: absent to offboard the other); otherwise "
                f"remove {UID_TAG} from {taken[0].id} in the Codat portal. Then plan again",
            )
            return SKIP
        if len(holders) > 1:
            refuse(
                customer,
                "company",
                f"moved from {old} not applied: duplicate: " + describe_duplicate(old, holders),
            )
            return SKIP
        company = holders[0]
        if customer.id is not None and customer.id != company.id:
            refuse(
                customer,
                "company",
                f"moved from {old} names company {company.id} (it carries {UID_TAG}={old}) but "
                f"id: names {customer.id}; remove one of them",
            )
            return SKIP
        return Match(company, moved_from=old)

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
        self.draft.refuse_customer(
            customer,
            "company",
            "duplicate: this customer is not touched until a person resolves it. "
            + describe_duplicate(customer.uid, companies),
        )
