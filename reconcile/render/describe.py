"""What every plan renderer says, independent of how it looks (terminal text or Markdown).

A renderer asks this module for the rows of an action, the verdict line and the ordered, capped
note lists, then lays them out. Every string that came from the file or from Codat goes through
the renderer's `Escaper` here, so no renderer can forget one; the rows hold escaped text only.
Rendering decides nothing: this module only describes the Plan it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconcile import escape
from reconcile.plans import CUT_OFF, Action, CustomerChange, Kind, Note, Plan

# The text and Markdown lists of notes (awaiting, deferred, ...) show this many entries each.
LIST_LIMIT = 20
FULL_LIST_HINT = "list them all with `reconcile plan ... --format json`, or `reconcile audit`"

Sign = Literal["+", "~", "-"]
_SIGNS: dict[str, Sign] = {"create": "+", "update": "~", "unlink": "-", "delete": "-"}


@dataclass(frozen=True)
class Escaper:
    """How one output escapes a string from the file or Codat: bare, and in double quotes."""

    plain: Callable[[object], str]
    quoted: Callable[[object], str]


TEXT = Escaper(escape.text, escape.quoted)
CODE = Escaper(escape.code, lambda v: '"' + escape.code(v).replace('"', '\\"') + '"')


@dataclass(frozen=True)
class Row:
    """One line of a customer's changes: its sign, 0 for an action or 1 for a detail of it,
    and its words (already escaped)."""

    sign: Sign
    depth: int
    words: str


# ---------------------------------------------------------------------- the verdict


def verdict(plan: Plan, refusals_are: str = "above") -> str:
    """The one-line verdict. It never says Codat matches the file while anything is refused."""
    refused = len(plan.refused)
    but = f"{refused} refused: see {refusals_are}."
    settings = len(plan.settings)
    also = f" {settings} account settings change{'s' if settings != 1 else ''}." * bool(settings)
    if not plan.has_changes:
        if settings:
            return "No changes to customers." + also + (f" {but}" if refused else "")
        if refused:
            return f"No changes can be applied, but {but}"
        return "No changes. Codat matches the file."
    line = "Plan: " + ", ".join(
        f"{count} to {bucket}" + _breakdown(bucket, plan) for bucket, count in counts(plan).items()
    )
    return line + "." + also + (f" {but}" if refused else "")


def counts(plan: Plan) -> dict[str, int]:
    """Actions per bucket (create, update, unlink, delete), as Terraform counts resources."""
    found = {"create": 0, "update": 0, "unlink": 0, "delete": 0}
    for action in plan.actions:
        found[action.kind.bucket] += 1
    return found


_RESOURCE: dict[Kind, tuple[str, str]] = {
    Kind.CREATE_COMPANY: ("company", "companies"),
    Kind.UPDATE_COMPANY: ("company", "companies"),
    Kind.DELETE_COMPANY: ("company", "companies"),
    Kind.CREATE_CONNECTION: ("connection", "connections"),
    Kind.CREATE_PARTNER_EXPENSE: ("connection", "connections"),
    Kind.UNLINK_CONNECTION: ("connection", "connections"),
    Kind.DELETE_CONNECTION: ("connection", "connections"),
    Kind.SET_EXPENSE_CONFIG: ("expense config", "expense configs"),
    Kind.REFRESH_DATA: ("data refresh", "data refreshes"),
}


def _breakdown(bucket: str, plan: Plan) -> str:
    """`(200 companies, 180 connections)` when a bucket mixes kinds of resource, else ``."""
    per: dict[tuple[str, str], int] = {}
    for action in plan.actions:
        if action.kind.bucket == bucket:
            noun = _RESOURCE.get(action.kind, ("other", "others"))
            per[noun] = per.get(noun, 0) + 1
    if len(per) < 2:
        return ""
    order = list(dict.fromkeys(_RESOURCE.values()))
    per = dict(
        sorted(per.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99)
    )
    parts = (f"{n} {one if n == 1 else many}" for (one, many), n in per.items())
    return " (" + ", ".join(parts) + ")"


# ---------------------------------------------------------------------- notes


def oldest_first(notes: Sequence[Note], limit: int = LIST_LIMIT) -> tuple[list[Note], int]:
    """The first `limit` notes, oldest first (by `since`, undated last, then uid), and how many
    more there are."""
    ordered = sorted(notes, key=lambda n: (n.since is None, n.since or "", n.uid, n.subject))
    return ordered[:limit], max(0, len(ordered) - limit)


def more_line(more: int, hint: str = FULL_LIST_HINT) -> str:
    return f"... and {more} more, not shown: {hint}"


# ---------------------------------------------------------------------- actions


def rows(action: Action, esc: Escaper) -> list[Row]:
    """The rows of one action: the action itself, then one row per changed field or tag."""
    sign = _SIGNS[action.kind.bucket]
    handler = _HANDLERS.get(action.kind, _generic)
    return handler(action, sign, esc)


def _reason(action: Action, esc: Escaper) -> str:
    return f"  ({esc.plain(action.reason)})" if action.reason else ""


def _create_company(action: Action, sign: Sign, esc: Escaper) -> list[Row]:
    after = action.after or {}
    words = f"company {esc.quoted(after.get('name', ''))}"
    if after.get("description"):
        words += f"  description: {esc.quoted(after['description'])}"
    tags = after.get("tags") or {}
    if tags:
        pairs = (f"{esc.plain(k)}={esc.plain(v)}" for k, v in sorted(tags.items()))
        words += "  tags: " + ", ".join(pairs)
    if action.cuts_off_customer:
        return [Row(sign, 0, words), Row("~", 1, esc.plain(action.reason))]
    return [Row(sign, 0, words)]


def _update_company(action: Action, sign: Sign, esc: Escaper) -> list[Row]:
    head = Row(sign, 0, f"company {esc.plain(action.company_id or '')}{_reason(action, esc)}")
    return [head, *company_diff(action.before or {}, action.after or {}, esc)]


def company_diff(before: Mapping[str, Any], after: Mapping[str, Any], esc: Escaper) -> list[Row]:
    """Name and description as `field: old -> new`; tags one by one: `+ k=v`, `- k`,
    `~ k: old -> new`. Everything that changes is shown, removals included (an adoption
    replaces the company's own description and tags with the file's)."""
    out = []
    for name in ("name", "description"):
        old, new = before.get(name) or "", after.get(name) or ""
        if old != new:
            sign: Sign = "-" if not new else "+" if not old else "~"
            out.append(Row(sign, 1, f"{name}: {_value(old, esc)} -> {_value(new, esc)}"))
    out.extend(tag_diff(before.get("tags") or {}, after.get("tags") or {}, esc))
    return out


def tag_diff(before: Mapping[str, Any], after: Mapping[str, Any], esc: Escaper) -> list[Row]:
    out = []
    for key in sorted(set(before) | set(after)):
        k = esc.plain(key)
        if key not in after:
            out.append(Row("-", 1, f"tag {k}={esc.plain(before[key])}"))
        elif key not in before:
            out.append(Row("+", 1, f"tag {k}={esc.plain(after[key])}"))
        elif before[key] != after[key]:
            old, new = esc.plain(before[key]), esc.plain(after[key])
            out.append(Row("~", 1, f"tag {k}: {old} -> {new}"))
    return out


def _value(value: object, esc: Escaper) -> str:
    return "(none)" if value in (None, "") else esc.quoted(value)


def _delete_company(action: Action, sign: Sign, esc: Escaper) -> list[Row]:
    name = (action.before or {}).get("name")
    named = f" {esc.quoted(name)}" if name else ""
    words = f"delete company {esc.plain(action.company_id or '')}{named}{_reason(action, esc)}"
    return [Row(sign, 0, words)]


def _retire(verb: str) -> Callable[[Action, Sign, Escaper], list[Row]]:
    def handler(action: Action, sign: Sign, esc: Escaper) -> list[Row]:
        status = f", {esc.plain(action.status)}" if action.status else ""
        words = f"{verb} {esc.plain(action.subject)}{status}{_reason(action, esc)}"
        return [Row(sign, 0, words)]

    return handler


def _set_config(action: Action, sign: Sign, esc: Escaper) -> list[Row]:
    before, after = _flat_config(action.before), _flat_config(action.after)
    out = [Row(sign, 0, f"set expense config{_reason(action, esc)}")]
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            out.append(Row("~", 1, f"{esc.plain(key)}: {_value(old, esc)} -> {_value(new, esc)}"))
    return out


def _flat_config(wire: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v.get("id") if isinstance(v, Mapping) else v for k, v in (wire or {}).items()}


def _create(action: Action, sign: Sign, esc: Escaper) -> list[Row]:
    """A connection create; one that replaces a connection the customer disconnected (its
    `before`) or one deleted behind the tool says what happened to that one: who, when, what
    it stopped."""
    head = Row(sign, 0, esc.plain(action.subject))
    said = action.before or action.cuts_off_customer
    return [head, Row("~", 1, esc.plain(action.reason))] if said else [head]


def _refresh(action: Action, sign: Sign, esc: Escaper) -> list[Row]:
    return [Row(sign, 0, f"refresh data ({esc.plain(action.reason)})")]


def _generic(action: Action, sign: Sign, esc: Escaper) -> list[Row]:
    return [Row(sign, 0, f"{esc.plain(action.kind.value)} {esc.plain(action.subject)}")]


_HANDLERS: dict[Kind, Callable[[Action, Sign, Escaper], list[Row]]] = {
    Kind.CREATE_COMPANY: _create_company,
    Kind.UPDATE_COMPANY: _update_company,
    Kind.DELETE_COMPANY: _delete_company,
    Kind.UNLINK_CONNECTION: _retire("unlink"),
    Kind.DELETE_CONNECTION: _retire("delete"),
    Kind.SET_EXPENSE_CONFIG: _set_config,
    Kind.CREATE_CONNECTION: _create,
    Kind.CREATE_PARTNER_EXPENSE: _create,
    Kind.REFRESH_DATA: _refresh,
}

HEADERS = {
    "create": "will be created",
    "update": "will be changed",
    "offboard": "is not in the file or absent: offboarding",
    "delete": "will be deleted",
}


def header(change: CustomerChange) -> str:
    """What happens to a customer, in the words of its block's header (raw: the caller
    escapes it); drift that cut the customer off says so first."""
    said = HEADERS.get(change.verdict, change.verdict)
    return f"{said}: {CUT_OFF}" if any(a.cuts_off_customer for a in change.actions) else said


def cut_offs(plan: Plan) -> list[Action]:
    """The creates that restore what drift took from a customer who must authorize again."""
    return [a for a in plan.actions if a.cuts_off_customer]


CUT_OFF_TITLE = "Cut off outside the tool: the customer must authorize again"


def note_kinds(plan: Plan) -> list[str]:
    """The kinds of note in the order the lists are shown; a kind this module does not know
    yet comes last, under its own name, rather than not at all."""
    known = list(NOTE_TITLES)
    return known + sorted({n.kind for n in plan.notes} - set(known))


NOTE_TITLES = {
    "awaiting_authorization": "Awaiting customer authorization",
    "needs_reauthorization": "Needs re-authorization",
    "deferred": "Deferred",
    "blocked": "Blocked by a refusal",
}
