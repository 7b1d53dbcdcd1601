"""The request of an action, rebuilt from what reviewers read: its kind, ids and `after`.

A plan carries the request it will send, but people read the action's kind, subject and `after`
(`show`, the PR comment). Apply sends the request this module rebuilds from those fields, and a
saved plan whose stored request (or subject) differs from the rebuilt one is refused as edited:
a plan that renders as a rename can never send a DELETE.

One bit is taken from the stored request: `reconcile.protect=true` on a company create (the
planner adds it for `protect: true`; it can only prevent destruction).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconcile import paths
from reconcile.model import (
    OWNER_TAG,
    PLATFORMS_BY_KEY,
    PROTECT_TAG,
    PROTECT_VALUE,
    UID_TAG,
    Status,
)
from reconcile.plans import COMPANY_PLACEHOLDER, Action, Kind, Plan, Request


class NotRebuildable(ValueError):
    """An action whose fields cannot describe a request (missing ids, a malformed `after`)."""


def rebuilt(owner: str, action: Action) -> Request:
    """The request `action` means, from its kind, uid, ids and `after` only."""
    cid = action.company_id
    after = action.after or {}
    kind = action.kind
    if kind is Kind.CREATE_COMPANY:
        return Request("POST", paths.companies(), _create_body(owner, action, after))
    if kind is Kind.CREATE_CONNECTION:
        key = after.get("platformKey")
        if not isinstance(key, str) or key not in PLATFORMS_BY_KEY:
            raise NotRebuildable("its `after` names no known platformKey")
        return Request("POST", paths.connections(cid or COMPANY_PLACEHOLDER), {"platformKey": key})
    if kind is Kind.CREATE_PARTNER_EXPENSE:
        return Request("POST", paths.partner_expense(cid or COMPANY_PLACEHOLDER))
    company = _need(cid, "company_id")
    if kind is Kind.UPDATE_COMPANY:
        return Request("PUT", paths.company(company), _company_fields(after))
    if kind is Kind.DELETE_COMPANY:
        return Request("DELETE", paths.company(company))
    if kind is Kind.SET_EXPENSE_CONFIG:
        return Request("POST", paths.expense_config(company), _config(after))
    if kind is Kind.REFRESH_DATA:
        return Request("POST", paths.refresh_data(company))
    connection = paths.connection(company, _need(action.connection_id, "connection_id"))
    if kind is Kind.UNLINK_CONNECTION:
        return Request("PATCH", connection, {"status": Status.UNLINKED.value})
    assert kind is Kind.DELETE_CONNECTION
    return Request("DELETE", connection)


def expected_subject(action: Action) -> str | None:
    """The subject a create must render as (None: any; it names a live connection)."""
    if action.kind in (Kind.CREATE_COMPANY, Kind.UPDATE_COMPANY, Kind.DELETE_COMPANY):
        return "company"
    if action.kind is Kind.CREATE_PARTNER_EXPENSE:
        return "partner expense connection"
    if action.kind is Kind.SET_EXPENSE_CONFIG:
        return "expense config"
    if action.kind is Kind.REFRESH_DATA:
        return "data"
    if action.kind is Kind.CREATE_CONNECTION:
        key = (action.after or {}).get("platformKey")
        platform = PLATFORMS_BY_KEY.get(key) if isinstance(key, str) else None
        return f"accounting connection {platform.label}" if platform else None
    return None


def edited_actions(plan: Plan) -> list[str]:
    """Every action whose stored request or subject is not what its fields mean, one line
    each (empty: the plan says what it does)."""
    found: list[str] = []
    for change in plan.changes:
        for action in change.actions:
            where = f"{action.uid} {action.kind.value}"
            if action.uid != change.uid or action.company_id not in (None, change.company_id):
                found.append(f"{where}: filed under customer {change.uid} of another company")
                continue
            try:
                want = rebuilt(plan.owner, action)
            except NotRebuildable as exc:
                found.append(f"{where}: {exc}")
                continue
            if want != action.request:
                found.append(
                    f"{where}: it would send {action.request.method} {action.request.path}, "
                    f"and reads as {want.method} {want.path} with the body its `after` shows"
                )
            subject = expected_subject(action)
            if subject is not None and subject != action.subject:
                found.append(f"{where}: its subject does not name what it creates")
    return found


def _need(value: str | None, what: str) -> str:
    if not value:
        raise NotRebuildable(f"it has no {what}")
    return value


def _company_fields(after: Mapping[str, Any]) -> dict[str, Any]:
    name, description, tags = after.get("name"), after.get("description"), after.get("tags")
    if not isinstance(name, str) or not isinstance(description, str | None):
        raise NotRebuildable("its `after` has no company name")
    if not isinstance(tags, Mapping):
        raise NotRebuildable("its `after` has no tags")
    return {"name": name, "description": description or "", "tags": dict(tags)}


def _create_body(owner: str, action: Action, after: Mapping[str, Any]) -> dict[str, Any]:
    fields = _company_fields(after)
    body: dict[str, Any] = {"name": fields["name"]}
    if fields["description"]:
        body["description"] = fields["description"]
    tags = {**fields["tags"], OWNER_TAG: owner, UID_TAG: action.uid}
    stored = action.request.body if isinstance(action.request.body, Mapping) else {}
    stored_tags = stored.get("tags")
    if isinstance(stored_tags, Mapping) and stored_tags.get(PROTECT_TAG) == PROTECT_VALUE:
        tags[PROTECT_TAG] = PROTECT_VALUE
    body["tags"] = tags
    return body


def _config(after: Mapping[str, Any]) -> dict[str, Any]:
    if set(after) != {"bankAccount", "supplier", "customer"}:
        raise NotRebuildable("its `after` is not an expense config")
    body: dict[str, Any] = {}
    for name in ("bankAccount", "supplier", "customer"):
        ref = after[name]
        if not isinstance(ref, Mapping) or set(ref) != {"id"} or not isinstance(ref["id"], str):
            raise NotRebuildable("its `after` is not an expense config")
        body[name] = {"id": ref["id"]}
    return body
