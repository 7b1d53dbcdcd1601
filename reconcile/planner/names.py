"""An expense config written by name (`supplier: {name: "Amex"}`), resolved to ids against the
company's mapping options (bank accounts) and accounting data (suppliers, customers, listed by
the live read for exactly these configs). Pure.

A name matches exactly, else ignoring case and surrounding spaces; none, or more than one, is
refused with the candidates. What resolved is shown as `supplier "Amex" -> 1234`; the plan's
action carries only the ids, so a saved plan keeps what it resolved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconcile.model import ExpenseConfig, MappingOption, MappingOptions

SHOWN_CANDIDATES = 10
_NOUNS = {"bankAccount": "bank account", "supplier": "supplier", "customer": "customer"}


def quoted(name: str) -> str:
    """A name in double quotes (rendering escapes whatever is printed)."""
    return json.dumps(name, ensure_ascii=False)


def _matches(name: str, records: Sequence[MappingOption]) -> list[MappingOption]:
    exact = [r for r in records if r.name == name]
    if exact:
        return exact
    folded = name.strip().casefold()
    return [r for r in records if r.name.strip().casefold() == folded]


def _candidates(records: Sequence[MappingOption]) -> str:
    shown = ", ".join(f"{quoted(r.name)} ({r.id})" for r in records[:SHOWN_CANDIDATES])
    more = len(records) - SHOWN_CANDIDATES
    return (shown + (f" and {more} more" if more > 0 else "")) or "none"


def resolve_names(
    wanted: ExpenseConfig, options: MappingOptions
) -> tuple[ExpenseConfig, tuple[str, ...], str | None]:
    """(the config with ids, `field "name" -> id` for each name, the refusal or None)."""
    pools: dict[str, Sequence[MappingOption] | None] = {
        "bankAccount": options.bank_accounts,
        "supplier": options.suppliers,
        "customer": options.customers,
    }
    ids: dict[str, str] = {}
    shown: list[str] = []
    problems: list[str] = []
    for field, name in wanted.names:
        noun = _NOUNS[field]
        records = pools[field]
        if records is None:
            problems.append(f"the {noun}s were not read, so {noun} {quoted(name)} is unresolved")
            continue
        found = _matches(name, records)
        if len(found) == 1:
            ids[field] = found[0].id
            shown.append(f"{noun} {quoted(name)} -> {found[0].id}")
        elif not found:
            problems.append(
                f"no {noun} is named {quoted(name)}; candidates: {_candidates(records)}"
            )
        else:
            problems.append(
                f"{len(found)} {noun}s are named {quoted(name)} ({_candidates(found)}): write"
                " the one meant by its id"
            )
    return wanted.resolved(ids), tuple(shown), "; ".join(problems) or None
