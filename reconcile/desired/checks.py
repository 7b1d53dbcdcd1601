"""Checks a JSON Schema cannot express: defaults merged into customers, and across files.

Each check reads the plain data of every file of the run and yields (document index, Issue).
Checks skip values of the wrong type: the schema reports those.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from reconcile.desired.schema import Issue, too_many_tags_message
from reconcile.desired.yamlload import Document
from reconcile.model import MAX_USER_TAGS

Found = tuple[int, Issue]


def cross_checks(docs: Sequence[Document]) -> Iterator[Found]:
    yield from _owners(docs)
    yield from _unique(docs, "uid", "uid")
    yield from _unique(docs, "id", "company id")
    for index, doc in enumerate(docs):
        yield from ((index, issue) for issue in _customer_checks(doc.data))


def _where(docs: Sequence[Document], index: int, path: tuple[Any, ...]) -> str:
    line, col = docs[index].position(path)
    return f"{docs[index].file}:{line}:{col}"


def _owners(docs: Sequence[Document]) -> Iterator[Found]:
    first: tuple[int, str] | None = None
    for index, doc in enumerate(docs):
        owner = doc.data.get("owner") if isinstance(doc.data, dict) else None
        if not isinstance(owner, str):
            continue
        if first is None:
            first = (index, owner)
        elif owner != first[1]:
            yield (
                index,
                Issue(
                    ("owner",),
                    f"owner '{owner}' differs from owner '{first[1]}' at"
                    f" {_where(docs, first[0], ('owner',))}; one run manages one owner",
                ),
            )


def _customers(data: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    customers = data.get("customers") if isinstance(data, dict) else None
    if isinstance(customers, list):
        for position, customer in enumerate(customers):
            if isinstance(customer, dict):
                yield position, customer


def _unique(docs: Sequence[Document], key: str, what: str) -> Iterator[Found]:
    seen: dict[str, tuple[int, int]] = {}
    for index, doc in enumerate(docs):
        for position, customer in _customers(doc.data):
            value = customer.get(key)
            if not isinstance(value, str):
                continue
            norm = value.casefold() if key == "id" else value
            if norm in seen:
                at_doc, at_pos = seen[norm]
                where = _where(docs, at_doc, ("customers", at_pos, key))
                yield (
                    index,
                    Issue(
                        ("customers", position, key),
                        f"{what} '{value}' is defined twice: here and at {where};"
                        f" each customer needs its own {what}",
                    ),
                )
            else:
                seen[norm] = (index, position)


def _customer_checks(data: Any) -> Iterator[Issue]:
    defaults = data.get("defaults") if isinstance(data, dict) else None
    if not isinstance(defaults, dict):
        defaults = {}
    default_tags = defaults.get("tags")
    default_tags = default_tags if isinstance(default_tags, dict) else {}
    for position, customer in _customers(data):
        path = ("customers", position)
        accounting = customer.get("accounting", defaults.get("accounting"))
        if "expenseConfig" in customer and accounting is None:
            yield Issue(
                (*path, "expenseConfig"),
                "expenseConfig needs an accounting platform: set 'accounting' on this customer"
                " or in defaults",
                at_key=True,
            )
        protect = customer.get("protect", defaults.get("protect"))
        if customer.get("state") == "deleted" and protect is True:
            yield Issue(
                (*path, "state"),
                "state: deleted is not allowed with protect: true; set protect: false to delete"
                " this customer",
            )
        tags = customer.get("tags")
        if isinstance(tags, dict) and default_tags:
            merged = {**default_tags, **tags}
            if len(tags) <= MAX_USER_TAGS < len(merged) and len(default_tags) <= MAX_USER_TAGS:
                yield Issue(
                    (*path, "tags"),
                    too_many_tags_message(len(merged)).replace(
                        "user tags", "user tags with defaults.tags merged", 1
                    ),
                    at_key=True,
                )
