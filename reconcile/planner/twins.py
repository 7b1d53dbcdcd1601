"""Probable identity edits: a customer the plan would create whose company is probably already
there under another uid (docs/design.md §4).

A uid can be edited in the file or in Codat's portal, to a uid in no file, to another
customer's uid, in case only, with or without a rename. Each looks like "create this customer"
next to some other company, so before any company is created each create is compared with the
companies that could be its own:

- a managed company whose uid is in no file (or that has no uid tag);
- a twin of a duplicated uid whose name is not that uid's customer's (the other twin is), a
  company without an owner tag that carries it included;
- a company matched to another customer whose name it does not carry, but this one's.

A candidate is this customer's when it carries a uid equal but for case, the same name, or
(unless it is only misnamed, which a rename in the file explains) a similar name (a rename) and a
Linked accounting connection on the platform this customer wants. Then nothing of either is
created or unlinked, and the plan names the probable edit and the tag to restore; restoring it
makes the plan empty again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from reconcile.model import UID_TAG, Company, Customer, Status, name_key
from reconcile.planner.duplicates import describe_company
from reconcile.planner.identity import Index, Match
from reconcile.planner.options import Draft

# Words that say what a company is, not which one: they make no two names similar.
_COMMON = frozenset(
    [
        "ltd",
        "limited",
        "inc",
        "llc",
        "llp",
        "plc",
        "co",
        "corp",
        "company",
        "group",
        "holdings",
        "the",
        "and",
        "of",
        "uk",
        "us",
        "gmbh",
        "sa",
        "bv",
    ]
)


def _words(name: str) -> set[str]:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in name.casefold())
    return {w for w in cleaned.split() if len(w) >= 3 and w not in _COMMON}


def similar(a: str, b: str) -> bool:
    """Two names that share a distinctive word ("Globex Ltd", "Globex Limited") or read
    mostly alike: a rename rather than another customer."""
    if _words(a) & _words(b):
        return True
    return SequenceMatcher(None, name_key(a), name_key(b)).ratio() >= SIMILAR_RATIO


SIMILAR_RATIO = 0.8


@dataclass
class Held:
    """What the pairing holds back: customers not planned, companies not offboarded."""

    uids: set[str] = field(default_factory=set)
    company_ids: set[str] = field(default_factory=set)


def _why(customer: Customer, company: Company, by_platform: bool) -> str | None:
    """Why `company` is probably `customer`'s, or None."""
    if company.uid is not None and company.uid.casefold() == customer.uid.casefold():
        return "its uid differs from this customer's only in case (uids are case-sensitive)"
    if name_key(company.name) == name_key(customer.name):
        return "it has the same name"
    if by_platform and customer.accounting is not None and similar(company.name, customer.name):
        for conn in company.connections:
            platform = conn.platform
            if (
                conn.is_accounting
                and conn.status == Status.LINKED.value
                and platform is not None
                and platform.key == customer.accounting
            ):
                return (
                    f"it has a similar name and holds a Linked {platform.label}, the platform "
                    "this customer wants"
                )
    return None


def hold_probable_edits(
    creates: list[Customer],
    leaving: list[Company],
    index: Index,
    customers: Mapping[str, Customer],
    matches: Mapping[str, Match],
    draft: Draft,
) -> Held:
    held = Held()
    misnamed = list(_misnamed(matches, customers))
    # (company, the customer whose uid it carries if any, whether a rename may hide it)
    candidates: list[tuple[Company, Customer | None, bool]] = [
        *((c, None, True) for c in leaving),
        *((c, holder, True) for c, holder in _intruders(index, customers)),
        *((c, holder, False) for c, holder in misnamed),  # a rename in the file is no edit
    ]
    _hold_swapped(misnamed, customers, matches, held, draft)
    for customer in creates:
        for company, holder, renamed in candidates:
            why = _why(customer, company, by_platform=renamed)
            if why is None:
                continue
            held.uids.add(customer.uid)
            _refuse(customer, company, holder, why, draft)
            if holder is None:
                held.company_ids.add(company.id)
            elif holder.uid in matches:  # a duplicate's customer is refused already
                held.uids.add(holder.uid)
                _refuse_holder(holder, customer, company, why, draft)
    return held


def _hold_swapped(
    misnamed: list[tuple[Company, Customer]],
    customers: Mapping[str, Customer],
    matches: Mapping[str, Match],
    held: Held,
    draft: Draft,
) -> None:
    """A company matched to D by uid that carries the name of another customer E of the file
    while E's company carries D's name: uid tags swapped between customers. D is not touched
    (no rename, no unlink of what is really E's). A rename in the file alone is no swap, and
    neither is a chain of renames (D takes E's old name while E takes a third one)."""
    swapped = {holder.uid for _, holder in misnamed}  # E's company must be misnamed too
    if not swapped:
        return
    by_name: dict[str, list[Customer]] = {}  # only E can be the other: of the swapped, by name
    for customer in customers.values():
        if customer.uid in swapped:
            by_name.setdefault(name_key(customer.name), []).append(customer)
    for company, holder in misnamed:
        others = [
            c
            for c in by_name.get(name_key(company.name), [])
            if c.uid != holder.uid and c.uid in swapped and _named(matches, c.uid, holder)
        ]
        if not others:
            continue
        other = others[0]
        held.uids.add(holder.uid)
        draft.refuse_customer(
            holder,
            f'company {company.id} "{company.name}"',
            f"not touched: company {company.id} carries {UID_TAG}={holder.uid} but has the name "
            f'of customer {other.uid} "{other.name}": probably an edited uid tag. If it is '
            f"{other.uid}'s company, restore the tag {UID_TAG}={other.uid} on it; if this "
            "customer was renamed, rename it in Codat too. Then plan again",
        )


def _named(matches: Mapping[str, Match], uid: str, customer: Customer) -> bool:
    """Whether the company matched to `uid` carries `customer`'s name."""
    match = matches.get(uid)
    company = match.company if match is not None else None
    return company is not None and name_key(company.name) == name_key(customer.name)


def _intruders(
    index: Index, customers: Mapping[str, Customer]
) -> Iterable[tuple[Company, Customer]]:
    """Twins of a duplicated uid (a company without an owner tag that carries it is one) that
    do not carry its customer's name while another does; every twin when the names cannot tell
    them apart."""
    for uid, twins in index.twin_sets():
        owner = customers.get(uid)
        if owner is None:
            continue
        named = [t for t in twins if name_key(t.name) == name_key(owner.name)]
        unnamed = [t for t in twins if t not in named]
        yield from ((t, owner) for t in (unnamed if named and unnamed else twins))


def _misnamed(
    matches: Mapping[str, Match], customers: Mapping[str, Customer]
) -> Iterable[tuple[Company, Customer]]:
    """Companies matched to a customer by uid whose name is not that customer's."""
    for uid, match in matches.items():
        company = match.company
        owner = customers.get(uid)
        if (
            company is not None
            and owner is not None
            and owner.id is None
            and company.name != owner.name  # the same name has the same key (the usual case)
            and name_key(company.name) != name_key(owner.name)
        ):
            yield company, owner


def _refuse(
    customer: Customer, company: Company, holder: Customer | None, why: str, draft: Draft
) -> None:
    seen = f"{UID_TAG}={company.uid}" if company.uid else f"no {UID_TAG} tag"
    restore = (
        f"restore the tag {UID_TAG}={customer.uid} on company {company.id} (Codat portal, or "
        f"PUT /companies/{company.id}), then plan again"
    )
    if holder is None:
        where = f"carries {seen}, which is in no file"
        other = (
            f" If the uid changed in the file instead, put uid {company.uid} back, or say so "
            f"with moved: [{{from: {company.uid}, to: {customer.uid}}}]. If "
            f"{company.uid} is really leaving, add it with state: absent; if they are different "
            "customers, give this one its own name"
            if company.uid
            else " If they are different customers, add the other one to the file or give this "
            "customer its own name"
        )
    else:
        where = f'carries {seen}, the uid of customer {holder.uid} "{holder.name}"'
        other = f" Customer {holder.uid} is not touched either until then"
    draft.refuse_customer(
        customer,
        f'company {company.id} "{company.name}"',
        f"not created: looks like this customer's company with an edited uid tag: {why}, and it "
        f"{where}. Neither is touched: {restore}.{other}. "
        f"({describe_company(company)})",
    )


def _refuse_holder(
    holder: Customer, customer: Customer, company: Company, why: str, draft: Draft
) -> None:
    draft.refuse_customer(
        holder,
        f'company {company.id} "{company.name}"',
        f"not touched: company {company.id} carries {UID_TAG}={company.uid} but looks like "
        f"customer {customer.uid}'s ({why}); restore the tag {UID_TAG}={customer.uid} on it, "
        "then plan again",
    )
