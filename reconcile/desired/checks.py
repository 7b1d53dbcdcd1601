"""Checks a JSON Schema cannot express: defaults merged into customers, and across files.

Each check reads the plain data of every file of the run and yields (document index, Issue).
Checks skip values of the wrong type: the schema reports those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from reconcile.desired.document import Document
from reconcile.desired.moved import moved_checks
from reconcile.desired.problems import Issue
from reconcile.model import MAX_USER_TAGS, MAX_USER_TAGS_PROTECTED

Found = tuple[int, Issue]


def cross_checks(docs: Sequence[Document]) -> Iterator[Found]:
    listed = [_customers(doc.data) for doc in docs]
    yield from _owners(docs)
    yield from _environments(docs, listed)
    yield from _policies(docs)
    yield from _unique(docs, listed, "uid", "uid")
    yield from _unique(docs, listed, "id", "company id")
    yield from moved_checks(docs)
    for index, doc in enumerate(docs):
        yield from ((index, issue) for issue in _customer_checks(doc.data, listed[index]))


def _where(docs: Sequence[Document], index: int, path: tuple[Any, ...]) -> str:
    line, col = docs[index].position(path)
    return f"{docs[index].file}:{line}:{col}"


def _one_per_run(
    docs: Sequence[Document], key: str, kind: type, norm: Callable[[Any], Any] = lambda v: v
) -> tuple[tuple[int, Any], list[tuple[int, Any]]]:
    """What a run has one of (its owner, policy, environments), which any file may write: the
    first file's `key` that is a `kind` as (index, value; (0, None) if no file writes one) and
    each later file's that differs from it, compared as `norm` makes them."""
    first: tuple[int, Any] | None = None
    differing: list[tuple[int, Any]] = []
    for index, doc in enumerate(docs):
        value = doc.data.get(key) if isinstance(doc.data, dict) else None
        if not isinstance(value, kind):
            continue
        if first is None:
            first = (index, norm(value))
        elif norm(value) != first[1]:
            differing.append((index, value))
    return first or (0, None), differing


def _owners(docs: Sequence[Document]) -> Iterator[Found]:
    (at, first), differing = _one_per_run(docs, "owner", str)
    for index, owner in differing:
        yield (
            index,
            Issue(
                ("owner",),
                f"owner '{owner}' differs from owner '{first}' at"
                f" {_where(docs, at, ('owner',))}; one run manages one owner",
            ),
        )


def _policies(docs: Sequence[Document]) -> Iterator[Found]:
    """`policy:` may be written in any file of a run, but every file that writes it says the
    same (one run has one policy)."""
    (at, _), differing = _one_per_run(docs, "policy", dict, _policy_key)
    for index, _ in differing:
        yield (
            index,
            Issue(
                ("policy",),
                f"policy differs from the policy at {_where(docs, at, ('policy',))}; "
                "one run has one policy: write it in one file, or the same in each",
                at_key=True,
            ),
        )


def _policy_key(policy: dict[str, Any]) -> tuple[Any, ...]:
    auto = policy.get("auto")
    listed = frozenset(str(a) for a in auto) if isinstance(auto, list) else auto
    return (listed, policy.get("prune"), policy.get("refreshDataEvery"))


Customers = list[tuple[int, dict[str, Any]]]
"""Some customers of a file, with their positions."""


def _customers(data: Any) -> list[Any]:
    """A file's customers as written (those that are no mapping are the schema's to report,
    and every check skips them)."""
    customers = data.get("customers") if isinstance(data, dict) else None
    return customers if isinstance(customers, list) else []


def _unique(
    docs: Sequence[Document], listed: Sequence[list[Any]], key: str, what: str
) -> Iterator[Found]:
    values = [
        value
        for customers in listed
        for c in customers
        if isinstance(c, dict) and isinstance(value := c.get(key), str)
    ]
    if key == "id":
        values = [value.casefold() for value in values]
    if len(set(values)) == len(values):  # the usual case: each once, nothing to say
        return
    seen: dict[str, tuple[int, int]] = {}
    for index, customers in enumerate(listed):
        for position, customer in enumerate(customers):
            value = customer.get(key) if isinstance(customer, dict) else None
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


class _Customer(NamedTuple):
    """A customer as the checks see it: where it is, what it says and its file's defaults."""

    path: tuple[Any, ...]
    data: dict[str, Any]
    defaults: dict[str, Any]
    default_tags: dict[str, Any]

    def setting(self, key: str) -> Any:
        """The customer's `key`, else the defaults'."""
        return self.data.get(key, self.defaults.get(key))


def _customer_checks(data: Any, customers: list[Any]) -> Iterator[Issue]:
    defaults = data.get("defaults") if isinstance(data, dict) else None
    if not isinstance(defaults, dict):
        defaults = {}
    default_tags = defaults.get("tags")
    default_tags = default_tags if isinstance(default_tags, dict) else {}
    for position, customer in _something_to_say(customers, default_tags):
        path = ("customers", position)
        own = list(_one_customer(_Customer(path, customer, defaults, default_tags)))
        yield from own
        overrides = customer.get("overrides")
        if not isinstance(overrides, dict):
            continue
        said = {issue.message for issue in own}
        for env, override in overrides.items():
            if not isinstance(override, dict):
                continue
            here = (*path, "overrides", env)
            merged = _Customer(path, {**customer, **override}, defaults, default_tags)
            for issue in _one_customer(merged, merged=True):
                if issue.message in said:
                    continue
                key = issue.path[len(path) : len(path) + 1]
                moved = (*here, key[0]) if key and key[0] in override else here
                yield Issue(moved, f"in environment '{env}': {issue.message}", at_key=True)


def _something_to_say(customers: list[Any], default_tags: dict[str, Any]) -> Customers:
    """The customers `_one_customer` may find something in; the others (most: it is not asked,
    10,000 times) have no overrides, no expenseConfig, no state, and fewer tags than any budget
    even with the defaults'. One comprehension, no call per customer."""
    room = MAX_USER_TAGS_PROTECTED - len(default_tags)
    return [
        (position, c)
        for position, c in enumerate(customers)
        if isinstance(c, dict)
        and (
            "overrides" in c
            or "expenseConfig" in c
            or "state" in c
            or (len(tags) if isinstance(tags := c.get("tags"), dict) else 0) > room
        )
    ]


def _one_customer(customer: _Customer, *, merged: bool = False) -> Iterator[Issue]:
    """One customer's checks; `merged`: an environment's overrides applied, which the schema
    never saw together, so nothing is left for it to say."""
    path = customer.path
    if "expenseConfig" in customer.data and customer.setting("accounting") is None:
        yield Issue(
            (*path, "expenseConfig"),
            "expenseConfig needs an accounting platform: set 'accounting' on this customer"
            " or in defaults",
            at_key=True,
        )
    if customer.data.get("state") == "deleted" and customer.setting("protect") is True:
        yield Issue(
            (*path, "state"),
            "state: deleted is not allowed with protect: true; set protect: false to delete"
            " this customer",
        )
    yield from _tag_budget(customer, schema_saw_it=not merged)


def _limit(protect: Any) -> int:
    return MAX_USER_TAGS_PROTECTED if protect is True else MAX_USER_TAGS


def _tag_budget(customer: _Customer, *, schema_saw_it: bool = True) -> Iterator[Issue]:
    """The user-tag budget of one customer with defaults merged: 8, or 7 when protected (the
    company then carries reconcile.protect too). What the schema already reports (a customer's
    own tags over its own budget, defaults.tags over 8) is not reported again.
    """
    own, default_tags = customer.data, customer.default_tags
    tags = own.get("tags", {})
    if not isinstance(tags, dict):
        return
    protect = customer.setting("protect")
    merged = len({**default_tags, **tags})
    if merged <= _limit(protect):
        return
    own_over = len(tags) > _limit(own.get("protect")) or len(default_tags) > MAX_USER_TAGS
    if own_over and schema_saw_it:
        return  # the schema says it, at the tags themselves
    from reconcile.desired.messages import too_many_tags_message

    message = too_many_tags_message(merged, protected=protect is True, merged=len(tags) < merged)
    if protect is True and "protect" not in own:
        message += " (this customer's protect: true comes from defaults)"
    if "tags" in own:
        yield Issue((*customer.path, "tags"), message, at_key=True)
    elif "protect" in own:
        yield Issue((*customer.path, "protect"), message, at_key=True)
    else:  # both the tags and protect: true come from defaults: said once, there
        message = too_many_tags_message(merged, protected=True)
        yield Issue(("defaults", "tags"), message, at_key=True)


def _environments(docs: Sequence[Document], customers_of: Sequence[list[Any]]) -> Iterator[Found]:
    """Environments are declared once (or identically in every file that declares them), and
    every environment a customer or `promote:` names is declared."""
    (first, declared), differing = _one_per_run(docs, "environments", dict)
    for index, _ in differing:
        where = _where(docs, first, ("environments",))
        yield (
            index,
            Issue(
                ("environments",),
                f"environments differ from those declared at {where}; declare them in one"
                " file, or identically in each",
                at_key=True,
            ),
        )
    known = set(declared or {})
    hint = (
        f"declared: {', '.join(sorted(known))}"
        if known
        else "the files declare no environments: add them under 'environments:'"
    )
    for index, doc in enumerate(docs):
        data = doc.data if isinstance(doc.data, dict) else {}
        promote = data.get("promote")
        for position, name in enumerate(promote if isinstance(promote, list) else []):
            if isinstance(name, str) and name not in known:
                yield (
                    index,
                    Issue(
                        ("promote", position),
                        f"promote names '{name}', which is not declared ({hint})",
                    ),
                )
        for position, customer in _naming_environments(customers_of[index]):
            listed = customer.get("environments")
            for i, name in enumerate(listed if isinstance(listed, list) else []):
                if isinstance(name, str) and name not in known:
                    path = ("customers", position, "environments", i)
                    yield index, Issue(path, f"environment '{name}' is not declared ({hint})")
            overrides = customer.get("overrides")
            for name in overrides if isinstance(overrides, dict) else {}:
                if name not in known:
                    path = ("customers", position, "overrides", name)
                    message = f"overrides for '{name}', which is not declared ({hint})"
                    yield index, Issue(path, message, at_key=True)
                elif isinstance(listed, list) and name not in listed:
                    path = ("customers", position, "overrides", name)
                    message = (
                        f"overrides for '{name}', where this customer does not exist (its"
                        f" environments: {', '.join(map(str, listed))});"
                        f" remove them or list '{name}'"
                    )
                    yield index, Issue(path, message, at_key=True)


def _naming_environments(customers: list[Any]) -> Customers:
    """The customers that name an environment (`environments` or `overrides`): only they can
    name one that is not declared."""
    return [
        (p, c)
        for p, c in enumerate(customers)
        if isinstance(c, dict) and ("environments" in c or "overrides" in c)
    ]
