"""Field-level differences of a change, from what the plan saw (`before`) to what the file wants
(`after`): `name: "Globex" -> "Globex Ltd"`, `tags.region: added "uk"`. Computed by
`reconcile.fielddiff`, so nested values (tags, the expense config's ids) are compared key by key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconcile.fielddiff import field_changes


def field_diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """One entry per changed leaf, sorted by field: {"field", "before", "after"}; a field that
    is added has before None, one removed has after None."""
    out = [
        {
            "field": ".".join(str(p) for p in change.path) or "(value)",
            "before": change.before,
            "after": change.after,
        }
        for change in field_changes(before, after)
    ]
    return sorted(out, key=lambda e: str(e["field"]))


def describe_diff(diff: list[dict[str, Any]]) -> str:
    """`name: "Globex" -> "Globex Ltd"; tags.region: removed "uk"` (repr-quoted values)."""
    parts = []
    for entry in diff:
        field, before, after = entry["field"], entry["before"], entry["after"]
        if before is None:
            parts.append(f"{field}: added {_shown(after)}")
        elif after is None:
            parts.append(f"{field}: removed {_shown(before)}")
        else:
            parts.append(f"{field}: {_shown(before)} -> {_shown(after)}")
    return "; ".join(parts)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return str(value)
