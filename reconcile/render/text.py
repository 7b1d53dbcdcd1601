"""Terraform-like text: one block per customer, the not-changes lists, then the summary line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import notpresent

from reconcile.executor import ApplyResult
from reconcile.plan import Action, CustomerChange, Kind, Note, Plan
from reconcile.render.style import Style

PLAIN = Style()

_HEADERS = {
    "create": "will be created",
    "update": "will be changed",
    "offboard": "is not in the file or absent: offboarding",
    "delete": "will be deleted",
}
_SIGNS = {"create": "+", "update": "~", "unlink": "-", "delete": "-"}
_COLOURS = {"create": "green", "update": "yellow", "unlink": "red", "delete": "red"}


def render_plan(plan: Plan, style: Style = PLAIN) -> str:
    lines: list[str] = []
    for change in plan.changes:
        lines.extend(_change(change, style))
        lines.append("")
    _notes(lines, "Awaiting customer authorization", plan.notes_of("awaiting_authorization"))
    _notes(lines, "Needs re-authorization", plan.notes_of("needs_reauthorization"))
    _notes(lines, "Deferred", plan.notes_of("deferred"))
    if plan.refused:
        lines.append(style(f"Refused ({len(plan.refused)}):", "red", "bold"))
        for r in plan.refused:
            lines.append(f'  {r.uid} "{r.name}"  {r.subject}: {r.reason}')
        lines.append("")
    if plan.warnings:
        lines.append(style(f"Warnings ({len(plan.warnings)}):", "yellow", "bold"))
        lines.extend(f"  {w}" for w in plan.warnings)
        lines.append("")
    lines.append(summary_line(plan, style))
    return "\n".join(lines) + "\n"


def summary_line(plan: Plan, style: Style = PLAIN) -> str:
    if not plan.has_changes:
        return style("No changes. Codat matches the file.", "green")
    s = plan.summary()
    return style(
        f"Plan: {s['create']} to create, {s['update']} to update, "
        f"{s['unlink']} to unlink, {s['delete']} to delete.",
        "bold",
    )


def _change(change: CustomerChange, style: Style) -> list[str]:
    lines = [style(f'  # {change.uid} "{change.name}" {_HEADERS[change.verdict]}', "bold")]
    for action in change.actions:
        lines.extend(_action(action, style))
    return lines


def _action(action: Action, style: Style) -> list[str]:
    bucket = action.kind.bucket
    sign = style(_SIGNS[bucket], _COLOURS[bucket])
    if action.kind is Kind.CREATE_COMPANY:
        after = action.after or {}
        tags = _tags(after.get("tags") or {})
        return [f'  {sign} company "{after.get("name")}"' + (f"  tags: {tags}" if tags else "")]
    if action.kind is Kind.UPDATE_COMPANY:
        lines = [f"  {sign} company {action.company_id}  ({action.reason})"]
        lines.extend(_field_diffs(action.before or {}, action.after or {}))
        return lines
    if action.kind is Kind.DELETE_COMPANY:
        return [f"  {sign} delete company {action.company_id}  ({action.reason})"]
    if action.kind is Kind.UNLINK_CONNECTION:
        return [f"  {sign} unlink {action.subject}, {action.status}  ({action.reason})"]
    if action.kind is Kind.DELETE_CONNECTION:
        return [f"  {sign} delete {action.subject}, {action.status}  ({action.reason})"]
    if action.kind is Kind.SET_EXPENSE_CONFIG:
        lines = [f"  {sign} set expense config  ({action.reason})"]
        lines.extend(_field_diffs(_flat_config(action.before), _flat_config(action.after)))
        return lines
    return [f"  {sign} {action.subject}"]


def _field_diffs(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """One `path: old -> new` line per changed leaf (a tag is `tags.KEY`), sorted by path."""
    keys = set(before) | set(after)  # a missing field shows as (none), not as a new root
    tree = DeepDiff({k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}, view="tree")
    changes = sorted(
        (".".join(map(str, level.path(output_format="list"))), level.t1, level.t2)
        for levels in tree.values()
        for level in levels
    )
    return [f"      {path}: {_q(old)} -> {_q(new)}" for path, old, new in changes]


def _flat_config(wire: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: (v or {}).get("id") for k, v in (wire or {}).items()}


def _q(value: object) -> str:
    return "(none)" if value is None or value is notpresent else f'"{value}"'


def _tags(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def _notes(lines: list[str], title: str, notes: tuple[Note, ...]) -> None:
    if not notes:
        return
    lines.append(f"{title} ({len(notes)}):")
    for n in notes:
        extra = "  ".join(x for x in (n.since and f"since {n.since[:10]}", n.link_url) if x)
        lines.append(
            f'  {n.uid} "{n.name}"  {n.subject}: {n.text}' + (f"  {extra}" if extra else "")
        )
    lines.append("")


def render_result(result: ApplyResult, style: Style = PLAIN) -> str:
    applied, failed, skipped = result.of("applied"), result.of("failed"), result.of("skipped")
    lines = []
    for o in failed:
        lines.append(style(f"  failed  {o.action.uid}: {o.action.subject}: {o.detail}", "red"))
    for o in skipped:
        lines.append(f"  skipped {o.action.uid}: {o.action.subject}: {o.detail}")
    lines.append(
        style(
            f"Apply complete: {len(applied)} applied, {len(failed)} failed, "
            f"{len(skipped)} skipped.",
            "bold",
        )
    )
    return "\n".join(lines) + "\n"


def render_outcome(outcome: Any) -> str:
    a = outcome.action
    where = outcome.company_id or "-"
    detail = f" ({outcome.detail})" if outcome.detail else ""
    return f"{outcome.status}: {a.uid} {a.kind.value} {a.subject} [{where}]{detail}"
