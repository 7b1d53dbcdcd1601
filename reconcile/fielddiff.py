"""Field-level differences between two plain mappings, computed by deepdiff: the one home of
the structural diff that saved plans (what changed behind the plan) and the audit (what a
change for review would alter) both word in their own way.

Nested values (tags, connections, the expense config's ids) are compared key by key; each
changed leaf is one `FieldChange`, its side None where the field is absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed leaf: its path of keys (and list indexes) and its value on each side."""

    path: tuple[Any, ...]
    before: Any  # None: the field is added
    after: Any  # None: the field is removed


def field_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[FieldChange]:
    """Every changed leaf from `before` to `after`, in path order."""
    tree = DeepDiff(dict(before or {}), dict(after or {}), view="tree")
    found = [
        FieldChange(tuple(change.path(output_format="list")), _side(change.t1), _side(change.t2))
        for changes in tree.values()
        for change in changes
    ]
    return sorted(found, key=lambda c: [str(p) for p in c.path])


def _side(value: Any) -> Any:
    return None if isinstance(value, NotPresent) else value
