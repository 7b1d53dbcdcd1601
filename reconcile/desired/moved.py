"""`moved:` checks a JSON Schema cannot express (Terraform's `moved` block, for uids).

Each entry renames a uid: the company carrying `reconcile.uid=<from>` becomes customer `<to>`'s.
Refused here, at the entry, before anything is read from Codat: `from` equal to `to`; a `to`
that is no customer of the files (nothing would own the company); a `from` that still is one
(the company cannot be both); a uid moved twice, two moves onto one uid, and chains (a uid moved
on again: write the final uid in one move).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from reconcile.desired.document import Document
from reconcile.desired.problems import Issue

Found = tuple[int, Issue]


def _entries(docs: Sequence[Document]) -> Iterator[tuple[int, int, str, str]]:
    for index, doc in enumerate(docs):
        moved = doc.data.get("moved") if isinstance(doc.data, dict) else None
        for position, entry in enumerate(moved if isinstance(moved, list) else []):
            if isinstance(entry, dict):
                old, new = entry.get("from"), entry.get("to")
                if isinstance(old, str) and isinstance(new, str):
                    yield index, position, old, new


def _uids(docs: Sequence[Document]) -> set[str]:
    found: set[str] = set()
    for doc in docs:
        customers = doc.data.get("customers") if isinstance(doc.data, dict) else None
        for customer in customers if isinstance(customers, list) else []:
            if isinstance(customer, dict) and isinstance(customer.get("uid"), str):
                found.add(customer["uid"])
    return found


def _where(docs: Sequence[Document], index: int, path: tuple[Any, ...]) -> str:
    line, col = docs[index].position(path)
    return f"{docs[index].file}:{line}:{col}"


def moved_checks(docs: Sequence[Document]) -> Iterator[Found]:
    entries = list(_entries(docs))
    if not entries:  # the usual case: no set of every uid (a walk of 10,000 customers)
        return
    uids = _uids(docs)
    froms: dict[str, tuple[int, int]] = {}
    tos: dict[str, tuple[int, int]] = {}
    for index, position, old, new in entries:
        at = ("moved", position)
        if old == new:
            yield index, Issue((*at, "to"), f"moved from '{old}' to itself; remove this entry")
            continue
        if new not in uids:
            yield (
                index,
                Issue(
                    (*at, "to"),
                    f"moved to '{new}', which is no customer of the files; add the customer "
                    f"with uid: {new} (the entry that was '{old}', with its uid changed)",
                ),
            )
        if old in uids:
            yield (
                index,
                Issue(
                    (*at, "from"),
                    f"moved from '{old}', which is still a customer of the files; change that "
                    f"entry's uid to '{new}' (a company carries one uid)",
                ),
            )
        if old in froms:
            where = _where(docs, *_path(froms[old], "from"))
            yield index, Issue((*at, "from"), f"'{old}' is moved twice (also at {where})")
        if new in tos:
            where = _where(docs, *_path(tos[new], "to"))
            yield index, Issue((*at, "to"), f"two moves onto '{new}' (also at {where})")
        froms.setdefault(old, (index, position))
        tos.setdefault(new, (index, position))
    for index, position, old, new in entries:
        if new in froms and old != new:
            where = _where(docs, *_path(froms[new], "from"))
            yield (
                index,
                Issue(
                    ("moved", position, "to"),
                    f"'{new}' is moved on again at {where}: a chain; write one move from "
                    f"'{old}' to the final uid",
                ),
            )


def _path(spot: tuple[int, int], key: str) -> tuple[int, tuple[Any, ...]]:
    index, position = spot
    return index, ("moved", position, key)
