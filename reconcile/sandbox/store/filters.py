"""Codat's list parameters, parsed: `tags=`, `query=` and `orderBy=`.

- `tags=region=uk && team~fin`: conditions on company tags joined by `&&`; operators `=`, `!=`
  and `~` (contains, case-insensitive). `!=` also matches a company without that tag.
- `query=name~acme && id=...`: conditions on resource fields joined by `&&`, groups joined by
  `||`; operators `=`, `!=`, `~`, and `>`, `<`, `>=`, `<=`. A value may be wrapped in double quotes.
- `orderBy=-created`: one field, `-` for descending.

A filter has at most `MAX_CONDITIONS` conditions (each one is a clause of the SQL the store
runs; thousands would pass SQLite's expression limits). Anything else is a `FilterError` (the API
answers 400).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

TAG_OPERATORS = ("!=", "~", "=")
QUERY_OPERATORS = ("!=", ">=", "<=", "~", "=", ">", "<")
# A company has at most 10 tags; 50 conditions leave room for any sensible filter.
MAX_CONDITIONS = 50


class FilterError(ValueError):
    """A list parameter that is not well formed."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str


# A query: OR of AND-groups.
Query = tuple[tuple[Condition, ...], ...]


@dataclass(frozen=True)
class Ordering:
    field: str
    descending: bool


def _split_clause(clause: str, operators: tuple[str, ...]) -> Condition:
    found = [(m.start(), op) for op in operators if (m := re.search(re.escape(op), clause))]
    if not found:
        raise FilterError(f"no operator in {clause!r}")
    # Earliest operator wins; at one position the longest (`!=` before `=`, `>=` before `>`).
    start, op = min(found, key=lambda item: (item[0], -len(item[1])))
    name, value = clause[:start].strip(), clause[start + len(op) :].strip()
    if not name or any(ch in name for ch in "=!~<>&|"):
        raise FilterError(f"no field name in {clause!r}")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return Condition(name, op, value)


def _too_many(what: str, count: int) -> FilterError:
    return FilterError(f"the {what} has {count} conditions; at most {MAX_CONDITIONS} are allowed")


def _clauses(text: str, joiner: str, what: str) -> list[str]:
    parts = text.split(joiner)
    if len(parts) > MAX_CONDITIONS:
        raise _too_many(what, len(parts))
    if any(not part.strip() for part in parts):
        raise FilterError(f"empty condition in {text!r}")
    return [part.strip() for part in parts]


def parse_tags(text: str) -> tuple[Condition, ...]:
    if not text.strip():
        raise FilterError("empty tags filter")
    clauses = _clauses(text, "&&", "tags filter")
    return tuple(_split_clause(clause, TAG_OPERATORS) for clause in clauses)


def parse_query(text: str, fields: Collection[str]) -> Query:
    if not text.strip():
        raise FilterError("empty query")
    groups = []
    for group in _clauses(text, "||", "query"):
        clauses = _clauses(group, "&&", "query")
        conditions = tuple(_split_clause(c, QUERY_OPERATORS) for c in clauses)
        for condition in conditions:
            if condition.field not in fields:
                raise FilterError(f"unknown field {condition.field!r}")
        groups.append(conditions)
    count = sum(len(group) for group in groups)
    if count > MAX_CONDITIONS:
        raise _too_many("query", count)
    return tuple(groups)


def parse_order(text: str, fields: Collection[str]) -> Ordering:
    text = text.strip()
    descending = text.startswith("-")
    name = text.lstrip("-")
    if name not in fields or text.startswith("--"):
        raise FilterError(f"cannot order by {text!r}")
    return Ordering(name, descending)
