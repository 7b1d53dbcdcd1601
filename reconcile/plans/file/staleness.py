"""Is a saved plan still what it was? Per action, against Codat read again just before apply.

Each action is, in this order:
- landed: Codat already holds what it wants (a re-run, a concurrent apply, a killed apply);
- changed behind the plan: what this action depends on differs from what the plan saw, once
  what the plan's landed actions did to that company is accounted for (an update depends on the
  company's name, description and tags; an unlink on that connection; a config on the config
  and the accounting connection; ...), so a tag update does not go stale because a connection
  was authorized, and a connection create does not because the plan's own unlink landed;
- otherwise it remains to be applied.

The verdict: every action landed ("already applied"); none did and something an action depends
on changed ("changed behind the plan", field by field, computed by reconcile.fielddiff: nothing
runs); some did ("partly applied"): the landed ones count as done, the remaining ones of
customers whose state is what the plan saw run (`runnable`), those of a customer changed behind
the plan are held (`held`, with the changes); or the plan runs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconcile.escape import quoted, text
from reconcile.fielddiff import field_changes as _changed_leaves
from reconcile.model import Company, ExpenseConfig, LiveState, Status
from reconcile.plans import Action, CustomerChange, Kind, Plan
from reconcile.plans.file.document import SavedPlan, Snapshot, snapshot


@dataclass(frozen=True)
class _Now:
    """Lookups into Codat read again (`reconcile.facts.saved.read_for_staleness`: the owner's
    companies, those read by id, the ids answered 404 and the expense configs the plan sets)."""

    live: LiveState

    @functools.cached_property
    def _by_id(self) -> dict[str, Company]:
        return {c.id: c for c in self.live.companies}

    @functools.cached_property
    def _by_uid(self) -> dict[tuple[str | None, str | None], list[Company]]:
        found: dict[tuple[str | None, str | None], list[Company]] = {}
        for c in self.live.companies:
            found.setdefault((c.owner, c.uid), []).append(c)
        return found

    def company(self, company_id: str) -> Company | None:
        return None if company_id in self.live.gone else self._by_id.get(company_id)

    def of_uid(self, owner: str, uid: str) -> list[Company]:
        return list(self._by_uid.get((owner, uid), []))

    def config(self, company_id: str) -> ExpenseConfig | None:
        return self.live.expense_configs.get(company_id)


@dataclass(frozen=True)
class Verdict:
    landed: tuple[Action, ...]
    remaining: tuple[Action, ...]
    # One line per change behind the plan: of any remaining action when none landed, of the
    # held customers' actions when some did.
    changed: tuple[str, ...]
    held: tuple[Action, ...] = ()  # partly applied: remaining actions of changed customers

    @property
    def total(self) -> int:
        return len(self.landed) + len(self.remaining)

    @property
    def runnable(self) -> tuple[Action, ...]:
        """Partly applied: the remaining actions whose customers are as the plan saw them."""
        held = {id(a) for a in self.held}
        return tuple(a for a in self.remaining if id(a) not in held)


def judge(saved: SavedPlan, read: LiveState) -> Verdict:
    plan, live = saved.plan, _Now(read)
    landed: list[Action] = []
    remaining: list[Action] = []
    for action in plan.actions:
        (landed if _landed(plan.owner, action, live) else remaining).append(action)
    by_company: dict[str, list[Action]] = {}
    for action in landed:
        if action.company_id is not None:
            by_company.setdefault(action.company_id, []).append(action)
    changed: dict[str, list[str]] = {}  # uid -> its changes behind the plan
    for action in remaining:
        done = by_company.get(action.company_id or "", [])
        lines = _changes(saved, action, live, done)
        if lines:
            changed.setdefault(action.uid, []).extend(lines)
    said = tuple(dict.fromkeys(line for lines in changed.values() for line in lines))
    if not landed:
        return Verdict((), tuple(remaining), said)
    held = tuple(a for a in remaining if a.uid in changed)
    return Verdict(tuple(landed), tuple(remaining), said, held)


def resumed(plan: Plan, verdict: Verdict, read: LiveState) -> Plan:
    """The plan with only `verdict.runnable`: landed and held actions left out, and a company
    a landed create made filled in for the actions that act on it."""
    runnable, live = {id(a) for a in verdict.runnable}, _Now(read)
    changes: list[CustomerChange] = []
    for change in plan.changes:
        actions = tuple(a for a in change.actions if id(a) in runnable)
        if not actions:
            continue
        company_id = change.company_id
        if company_id is None:  # created by a landed action of this plan: it exists now
            found = live.of_uid(plan.owner, change.uid)
            company_id = found[0].id if len(found) == 1 else None
        changes.append(replace(change, company_id=company_id, actions=actions))
    return replace(plan, changes=tuple(changes))


# ---------------------------------------------------------------------- landed


def _landed(owner: str, action: Action, live: _Now) -> bool:
    if action.company_id is None:  # acts on the company this plan creates
        found = live.of_uid(owner, action.uid)
        company = found[0] if len(found) == 1 else None
    else:
        company = live.company(action.company_id)
    kind = action.kind
    if kind is Kind.CREATE_COMPANY:
        return company is not None
    if kind in (Kind.DELETE_COMPANY, Kind.UNLINK_CONNECTION, Kind.DELETE_CONNECTION):
        if company is None:
            return True
        if kind is Kind.DELETE_COMPANY:
            return False
        conn = next((c for c in company.connections if c.id == action.connection_id), None)
        if conn is None:
            return True
        return kind is Kind.UNLINK_CONNECTION and conn.status == Status.UNLINKED.value
    if company is None or kind is Kind.REFRESH_DATA:
        return False  # a refresh leaves nothing a company read shows: asking again is harmless
    after = action.after or {}
    if kind is Kind.UPDATE_COMPANY:
        return bool(_company_fields(snapshot(company, with_config=False)) == _company_fields(after))
    if kind is Kind.CREATE_CONNECTION:
        key = after.get("platformKey")
        return any(
            c.is_accounting and c.active and c.platform is not None and c.platform.key == key
            for c in company.connections
        )
    if kind is Kind.CREATE_PARTNER_EXPENSE:
        return any(
            c.is_partner_expense and c.status == Status.LINKED.value for c in company.connections
        )
    config = live.config(company.id)
    return config is not None and config.to_wire() == dict(after)


# ---------------------------------------------------------------------- changed behind


def _changes(
    saved: SavedPlan, action: Action, live: _Now, done: Iterable[Action] = ()
) -> list[str]:
    plan = saved.plan
    cid = action.company_id
    if cid is None:
        return []  # a company this plan creates: it either appeared (landed) or it did not
    then = saved.seen.get(cid)
    if then is None:
        return []
    who = f"{text(action.uid)} company {text(cid)} {quoted(then['name'])}"
    company = live.company(cid)
    if company is None:
        return [f"{who}: deleted"]
    found: list[str] = []
    twins = [c for c in live.of_uid(plan.owner, action.uid) if c.id != cid]
    found.extend(
        f"{who}: a second company {text(t.id)} {quoted(t.name)} with its uid appeared"
        for t in twins
    )
    now = snapshot(company, live.config(cid), with_config="expense_config" in then)
    before, after = depends(action, then), depends(action, now)
    _account_for(done, before, after)
    found.extend(f"{who}: {line}" for line in field_changes(before, after))
    return found


def _account_for(done: Iterable[Action], before: dict[str, Any], after: dict[str, Any]) -> None:
    """What the plan's own landed actions did to the company is no change behind the plan:
    `before` (what it saw) becomes what it saw with those actions made."""
    for action in done:
        kind = action.kind
        if kind in (Kind.UNLINK_CONNECTION, Kind.DELETE_CONNECTION):
            for side in (before, after):
                side.get("connections", {}).pop(action.connection_id or "", None)
        elif kind is Kind.UPDATE_COMPANY and "name" in before:
            before.update(_company_fields(action.after or {}))
        elif kind in (Kind.CREATE_CONNECTION, Kind.CREATE_PARTNER_EXPENSE):
            seen = set(before.get("connections", {}))
            if "connections" in after:
                after["connections"] = {k: v for k, v in after["connections"].items() if k in seen}
        elif kind is Kind.SET_EXPENSE_CONFIG and "expense_config" in before:
            before["expense_config"] = dict(action.after or {})


def depends(action: Action, seen: Snapshot) -> dict[str, Any]:
    """The part of what the plan saw of a company that `action` depends on."""
    connections = {c["id"]: {k: v for k, v in c.items() if k != "id"} for c in seen["connections"]}
    accounting = {k: v for k, v in connections.items() if v["source_type"] == "Accounting"}
    kind = action.kind
    if kind is Kind.UPDATE_COMPANY:
        return _company_fields(seen)
    if kind is Kind.DELETE_COMPANY:
        return {**_company_fields(seen), "connections": connections}
    if kind in (Kind.UNLINK_CONNECTION, Kind.DELETE_CONNECTION):
        cid = action.connection_id or ""
        return {"connections": {cid: connections.get(cid)}}
    if kind is Kind.CREATE_CONNECTION:
        return {"connections": accounting}
    if kind is Kind.CREATE_PARTNER_EXPENSE:
        return {"connections": connections}
    if kind is Kind.SET_EXPENSE_CONFIG:
        return {"expense_config": seen.get("expense_config"), "connections": accounting}
    return {}  # a create of the company: depends on nothing it saw


def _company_fields(seen: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": seen.get("name"),
        "description": seen.get("description") or "",
        "tags": dict(sorted((seen.get("tags") or {}).items())),
    }


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Field-level changes from `before` to `after`, in words, escaped."""
    return sorted(
        _line(list(change.path), change.before, change.after)
        for change in _changed_leaves(before, after)
    )


def _line(path: list[Any], old: Any, new: Any) -> str:
    if path[:1] == ["tags"] and len(path) == 2:
        key = text(str(path[1]))
        if old is None:
            return f"tag added {key}={_plain(new)}"
        if new is None:
            return f"tag removed {key}={_plain(old)}"
        return f"tag {key} {_value(old)} -> {_value(new)}"
    if path[:1] == ["connections"] and len(path) >= 2:
        label = f"connection {text(str(path[1]))}"
        if len(path) == 2 and (old is None):
            return f"{label} added, {_plain((new or {}).get('status'))}"
        if len(path) == 2 and (new is None):
            return f"{label} removed (was {_plain((old or {}).get('status'))})"
        rest = " ".join(text(str(p)) for p in path[2:])
        return f"{label} {rest} {_plain(old)} -> {_plain(new)}"
    name = " ".join(text(str(p)) for p in path)
    return f"{name} {_value(old)} -> {_value(new)}"


def _plain(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return text(value)
    return text(json.dumps(value, sort_keys=True))


def _value(value: Any) -> str:
    return quoted(value) if isinstance(value, str) else _plain(value)


def describe_remaining(actions: Iterable[Action]) -> list[str]:
    """`uid: create_connection accounting connection Xero (gbol)`, one per remaining action."""
    verb = {Kind.SET_EXPENSE_CONFIG: "set", Kind.REFRESH_DATA: "refresh"}
    return [f"{text(a.uid)}: {verb.get(a.kind, a.kind.bucket)} {text(a.subject)}" for a in actions]
