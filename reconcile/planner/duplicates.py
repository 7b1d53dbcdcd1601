"""Duplicates: several companies carry one `reconcile.uid` (docs/design.md §4), said the same
way by the plan's refusal and every format of the audit.

A person must tell the twins apart, so each is named with its creation date and connections, the
one that holds the customer's connections first (most Linked connections, then most active ones,
then the oldest), and the finding says how to resolve it: what to do in Codat's portal, or how
the file can say which twin is the customer's (`id:` that twin).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconcile.model import UID_TAG, Company, Status
from reconcile.planner.actions import connection_subject


def _linked(company: Company) -> int:
    return sum(1 for c in company.connections if c.status == Status.LINKED.value)


def _active(company: Company) -> int:
    return sum(1 for c in company.connections if c.active)


def order_twins(twins: Iterable[Company]) -> list[Company]:
    """The twin holding the customer's connections first: most Linked, most active, oldest."""
    return sorted(twins, key=lambda c: (-_linked(c), -_active(c), c.created or "~", c.id))


def describe_company(company: Company) -> str:
    """`ID "Name" (created DATE): Linked Xero (gbol), ...`: enough to tell twins apart."""
    held = [
        f"{c.status} {connection_subject(c)}"
        for c in company.connections
        if c.status != Status.UNLINKED.value
    ]
    created = f"created {company.created}" if company.created else "creation date not given"
    return f'{company.id} "{company.name}" ({created}): ' + (
        ", ".join(held) if held else "no connections"
    )


def describe_twins(twins: Iterable[Company]) -> str:
    """Each twin with its creation date and connections, the keeper first."""
    return "; ".join(describe_company(c) for c in order_twins(twins))


def resolution(uid: str, twins: Iterable[Company], *, in_file: bool = True) -> str:
    """How a person resolves the duplicate: in the portal, or in the file (`in_file`: the
    customer is in the file; otherwise its entry left it, and the file can bring it back)."""
    ordered = order_twins(twins)
    keep, extra = ordered[0], ordered[1:]
    extra_ids = ", ".join(c.id for c in extra)
    them = "it" if len(extra) == 1 else "them"
    if _active(keep) == 0:
        which = (
            f"no twin holds a connection: keep one (the oldest is {keep.id}) and delete "
            f"{extra_ids} in the Codat portal (or remove {UID_TAG} from {them})"
        )
    elif any(_active(c) for c in extra):
        which = (
            f"more than one twin holds connections: check in the Codat portal which one "
            f"customer {uid} uses (probably {keep.id}, which holds the most), then delete the "
            f"other (or remove its {UID_TAG} tag)"
        )
    else:
        which = (
            f"keep {keep.id}, which holds the customer's connections: delete {extra_ids} in the "
            f"Codat portal (or remove {UID_TAG} from {them})"
        )
    say = (
        f"write `id: {keep.id}` on customer {uid}"
        if in_file
        else f"add customer {uid} back with `id: {keep.id}` (and `state: absent` to offboard it)"
    )
    return (
        f"To resolve: {which}; or say it in the file: {say} (the other twins are then left "
        "alone). Then plan again"
    )


def describe_duplicate(uid: str, twins: Iterable[Company], *, in_file: bool = True) -> str:
    """The whole finding: the twins, keeper first, and the way to resolve it."""
    ordered = order_twins(twins)
    return (
        f"{len(ordered)} companies carry {UID_TAG}={uid}: {describe_twins(ordered)}. "
        f"{resolution(uid, ordered, in_file=in_file)}"
    )


def twin_facts(company: Company) -> dict[str, Any]:
    """One twin for machine readers (the audit's JSON `facts.twins`)."""
    return {
        "company_id": company.id,
        "name": company.name,
        "created": company.created,
        "connections": [
            {
                "connection_id": c.id,
                "source_type": c.source_type,
                "subject": connection_subject(c),
                "status": c.status,
            }
            for c in company.connections
            if c.status != Status.UNLINKED.value
        ],
    }
