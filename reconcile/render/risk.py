"""How much harm each change of a plan can do, in words: what the pull-request comment leads
with, and the order in which it gives up blocks when it is too long.

Risk, highest first: deleting a company (everything it holds goes, for good); unlinking a Linked
connection (the customer's expenses stop syncing); deleting a connection that was never
authorized (the Link URL sent to the customer stops working, nothing synced is lost); changing
a company or its expense config; adding things. This module describes the Plan it is given and
decides nothing: the strings it returns are raw (the caller escapes them for its output).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconcile.plans import Action, CustomerChange, Kind

DELETES_COMPANY, CUTS_OFF, DROPS_PENDING, CHANGES, ADDS = 4, 3, 2, 1, 0

_RISK = {
    Kind.DELETE_COMPANY: DELETES_COMPANY,
    Kind.UNLINK_CONNECTION: CUTS_OFF,
    Kind.DELETE_CONNECTION: DROPS_PENDING,
    Kind.UPDATE_COMPANY: CHANGES,
    Kind.SET_EXPENSE_CONFIG: CHANGES,
}
_CONNECTION_PREFIXES = ("accounting connection ",)


def action_risk(action: Action) -> int:
    return _RISK.get(action.kind, ADDS)


def customer_risk(change: CustomerChange) -> int:
    return max((action_risk(a) for a in change.actions), default=ADDS)


def riskiest_first(changes: tuple[CustomerChange, ...]) -> list[CustomerChange]:
    """The customers, riskiest first; equal risk keeps the plan's order (a stable sort)."""
    return sorted(changes, key=customer_risk, reverse=True)


def is_destructive(action: Action) -> bool:
    """Every unlink and every delete: what the comment's Destructive section lists."""
    return action.kind in (Kind.DELETE_COMPANY, Kind.UNLINK_CONNECTION, Kind.DELETE_CONNECTION)


def _platform(subject: str) -> str:
    """`Xero (gbol)` of `accounting connection Xero (gbol)`; other subjects as they are."""
    for prefix in _CONNECTION_PREFIXES:
        if subject.startswith(prefix):
            return subject[len(prefix) :]
    return subject


def cuts_off(action: Action) -> str:
    """What a destructive action does and what it cuts off, in one line. The company is named,
    never its id (the id of a company awaiting authorization is a Link URL; the line is for a
    pull-request comment)."""
    if action.kind is Kind.DELETE_COMPANY:
        name = (action.before or {}).get("name")
        named = f' "{name}"' if name else ""
        return f"deletes company{named}: " + _COMPANY_GONE
    return consequence(action)


_COMPANY_GONE = (
    "every connection, its expense config and sync history go with it, and it cannot be undone"
)


def consequence(action: Action) -> str:
    """`cuts_off` without what names one company: the same for every action of its kind on
    the same platform, so a long list can say it once."""
    status = action.status or "active"
    if action.kind is Kind.DELETE_COMPANY:
        return "deletes the company: " + _COMPANY_GONE
    if action.kind is Kind.UNLINK_CONNECTION:
        if action.subject == "partner expense connection":
            return (
                f"unlinks the {status} partner expense connection: the customer's expenses "
                "stop syncing"
            )
        if action.subject.startswith(_CONNECTION_PREFIXES):
            return (
                f"unlinks {status} {_platform(action.subject)}: the customer's expenses stop "
                "syncing"
            )
        return f"unlinks {status} {action.subject}: Codat stops reading its data"
    return (
        f"deletes {status} {_platform(action.subject)}: the Link URL sent to the customer "
        "stops working (never authorized, so nothing synced is lost)"
    )


def short(action: Action) -> str:
    """A few words for a folded summary, naming the risk."""
    if action.kind is Kind.DELETE_COMPANY:
        return "DELETES the company"
    if action.kind is Kind.UNLINK_CONNECTION:
        return f"unlinks {action.status or 'active'} {_platform(action.subject)}"
    if action.kind is Kind.DELETE_CONNECTION:
        return f"deletes {action.status or 'active'} {_platform(action.subject)}"
    if action.kind is Kind.UPDATE_COMPANY:
        return "changes " + ", ".join(changed_fields(action))
    if action.kind is Kind.SET_EXPENSE_CONFIG:
        return "sets expense config " + ", ".join(changed_fields(action))
    if action.kind is Kind.CREATE_COMPANY:
        return "creates the company"
    return f"adds {_platform(action.subject)}"


def summary(change: CustomerChange) -> str:
    """The risks of one customer's changes, riskiest first, e.g. `unlinks Linked Xero (gbol);
    changes name, tags crm, region`."""
    ordered = sorted(change.actions, key=action_risk, reverse=True)
    return "; ".join(dict.fromkeys(short(a) for a in ordered))


def changed_fields(action: Action) -> list[str]:
    """The fields an update or config action changes, by name (tags by key), in place of the
    planner's generic "differs from the file"."""
    before, after = action.before or {}, action.after or {}
    if action.kind is Kind.SET_EXPENSE_CONFIG:
        old, new = _flat(before), _flat(after)
        return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)) or ["(none)"]
    fields = [f for f in ("name", "description") if (before.get(f) or "") != (after.get(f) or "")]
    old_tags, new_tags = before.get("tags") or {}, after.get("tags") or {}
    tags = sorted(k for k in set(old_tags) | set(new_tags) if old_tags.get(k) != new_tags.get(k))
    if tags:
        fields.append(("tag " if len(tags) == 1 else "tags ") + ", ".join(tags))
    return fields or ["(no field)"]


def _flat(wire: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.get("id") if isinstance(v, Mapping) else v for k, v in wire.items()}


GENERIC_REASONS = frozenset({"differs from the file", "expense config differs from the file"})
