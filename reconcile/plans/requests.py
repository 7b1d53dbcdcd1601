"""Every request a plan can send, built in one place (pure: no I/O, no client).

The planner builds each action's request with the builders below; apply sends the request
`rebuilt` makes from what reviewers read (the action's kind, ids and `after`), and a saved plan
whose stored request (or subject) differs from the rebuilt one is refused as edited
(`edited_actions`): a plan that renders as a rename can never send a DELETE.

One bit is taken from the stored request: `reconcile.protect=true` on a company create (the
planner adds it for `protect: true`; it can only prevent destruction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from reconcile.plans import COMPANY_PLACEHOLDER, Action, Kind, Plan, Request, SettingsChange

CONFIG_FIELDS = ("bankAccount", "supplier", "customer")


# --------------------------------------------------------------------------- the builders


def create_company(
    owner: str,
    uid: str,
    name: str,
    description: str | None,
    tags: Mapping[str, str],
    *,
    protect: bool = False,
) -> Request:
    """POST /companies: the user tags, then ownership (and protection when asked)."""
    body: dict[str, Any] = {"name": name}
    if description:
        body["description"] = description
    full = {**tags, OWNER_TAG: owner, UID_TAG: uid}
    if protect:
        full[PROTECT_TAG] = PROTECT_VALUE
    body["tags"] = full
    return Request("POST", paths.companies(), body)


def update_company(
    company_id: str, name: str, description: str | None, tags: Mapping[str, str]
) -> Request:
    """PUT with the full wanted state: name, description and every tag."""
    body = {"name": name, "description": description or "", "tags": dict(tags)}
    return Request("PUT", paths.company(company_id), body)


def delete_company(company_id: str) -> Request:
    return Request("DELETE", paths.company(company_id))


def create_connection(company_id: str | None, platform_key: str) -> Request:
    """`company_id` None: the company is created earlier in the same plan."""
    path = paths.connections(company_id or COMPANY_PLACEHOLDER)
    return Request("POST", path, {"platformKey": platform_key})


def create_partner_expense(company_id: str | None) -> Request:
    return Request("POST", paths.partner_expense(company_id or COMPANY_PLACEHOLDER))


def set_expense_config(company_id: str, config: Mapping[str, Any]) -> Request:
    return Request("POST", paths.expense_config(company_id), dict(config))


def refresh_data(company_id: str) -> Request:
    """Queue a refresh of every data type of the company (`POST .../data/all`)."""
    return Request("POST", paths.refresh_data(company_id))


def unlink_connection(company_id: str, connection_id: str) -> Request:
    path = paths.connection(company_id, connection_id)
    return Request("PATCH", path, {"status": Status.UNLINKED.value})


def delete_connection(company_id: str, connection_id: str) -> Request:
    return Request("DELETE", paths.connection(company_id, connection_id))


# --------------------------------------------------------------------------- rebuilt


class NotRebuildable(ValueError):
    """An action whose fields cannot describe a request (missing ids, a malformed `after`)."""


def rebuilt(owner: str, action: Action) -> Request:
    """The request `action` means, from its kind, uid, ids and `after` only."""
    cid = action.company_id
    after = action.after or {}
    kind = action.kind
    if kind is Kind.CREATE_COMPANY:
        name, description, tags = _company_fields(after)
        return create_company(
            owner, action.uid, name, description, tags, protect=_asks_protection(action)
        )
    if kind is Kind.CREATE_CONNECTION:
        key = after.get("platformKey")
        if not isinstance(key, str) or key not in PLATFORMS_BY_KEY:
            raise NotRebuildable("its `after` names no known platformKey")
        return create_connection(cid, key)
    if kind is Kind.CREATE_PARTNER_EXPENSE:
        return create_partner_expense(cid)
    company = _need(cid, "company_id")
    if kind is Kind.UPDATE_COMPANY:
        return update_company(company, *_company_fields(after))
    if kind is Kind.DELETE_COMPANY:
        return delete_company(company)
    if kind is Kind.SET_EXPENSE_CONFIG:
        return set_expense_config(company, _config(after))
    if kind is Kind.REFRESH_DATA:
        return refresh_data(company)
    connection = _need(action.connection_id, "connection_id")
    if kind is Kind.UNLINK_CONNECTION:
        return unlink_connection(company, connection)
    assert kind is Kind.DELETE_CONNECTION
    return delete_connection(company, connection)


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
    found.extend(edited_settings(plan.settings))
    return found


# --------------------------------------------------------------------------- account settings


def sync_settings(body: Mapping[str, Any]) -> Request:
    """POST /profile/syncSettings: the account's whole list (Codat replaces it)."""
    return Request("POST", paths.sync_settings(), dict(body))


def create_consumer(body: Mapping[str, Any]) -> Request:
    return Request("POST", paths.webhooks(), dict(body))


def delete_consumer(consumer_id: str) -> Request:
    return Request("DELETE", paths.webhook(consumer_id))


def edited_settings(changes: Sequence[SettingsChange]) -> list[str]:
    """Every account settings' change whose requests are not what its `before` and `after`
    mean, or that moves a consumer to another host without saying it is destructive."""
    found: list[str] = []
    for change in changes:
        where = f"account settings {change.kind}"
        after = change.after or {}
        if change.kind == "webhook_consumer":
            seen = [
                c for c in (change.before or {}).get("consumers") or () if isinstance(c, Mapping)
            ]
            deletes = (
                [delete_consumer(str(c.get("id"))) for c in seen] if change.sign == "~" else []
            )
            if list(change.requests) != [*deletes, create_consumer(after)]:
                found.append(f"{where}: its requests are not the consumer its `after` shows")
            moves = any(c.get("url") != after.get("url") for c in seen)
            if moves != change.destructive:
                found.append(f"{where}: it moves a consumer to another host unmarked")
            if change.subject != f"webhook consumer {after.get('url')}":
                found.append(f"{where}: its subject does not name its url")
            continue
        if len(change.requests) != 1 or not _sync_body_means(change.requests[0], change):
            found.append(f"{where}: its request is not the settings its `after` shows")
    return found


def _sync_body_means(request: Request, change: SettingsChange) -> bool:
    """The one write carries the list the plan saw with the named fields changed, and adds
    only data types the file names."""
    if (request.method, request.path) != ("POST", paths.sync_settings()):
        return False
    body = request.body if isinstance(request.body, Mapping) else {}
    listed = body.get("settings")
    if not isinstance(listed, list) or not all(isinstance(e, Mapping) for e in listed):
        return False
    after = change.after or {}
    seen = {e.get("dataType"): e for e in (change.before or {}).get("settings") or ()}
    for entry in listed:
        data_type = entry.get("dataType")
        wanted = after.get(data_type) if isinstance(data_type, str) else None
        named = dict(wanted) if isinstance(wanted, Mapping) else {}
        if data_type in seen:
            if dict(entry) != {**dict(seen[data_type]), **named}:
                return False
        elif not named or any(entry.get(k) != v for k, v in named.items()):
            return False
    return {e.get("dataType") for e in listed} >= set(seen)


def _need(value: str | None, what: str) -> str:
    if not value:
        raise NotRebuildable(f"it has no {what}")
    return value


def _company_fields(after: Mapping[str, Any]) -> tuple[str, str | None, Mapping[str, str]]:
    name, description, tags = after.get("name"), after.get("description"), after.get("tags")
    if not isinstance(name, str) or not isinstance(description, str | None):
        raise NotRebuildable("its `after` has no company name")
    if not isinstance(tags, Mapping):
        raise NotRebuildable("its `after` has no tags")
    return name, description, dict(tags)


def _asks_protection(action: Action) -> bool:
    stored = action.request.body if isinstance(action.request.body, Mapping) else {}
    stored_tags = stored.get("tags")
    return isinstance(stored_tags, Mapping) and stored_tags.get(PROTECT_TAG) == PROTECT_VALUE


def _config(after: Mapping[str, Any]) -> dict[str, Any]:
    if set(after) != set(CONFIG_FIELDS):
        raise NotRebuildable("its `after` is not an expense config")
    body: dict[str, Any] = {}
    for name in CONFIG_FIELDS:
        ref = after[name]
        if not isinstance(ref, Mapping) or set(ref) != {"id"} or not isinstance(ref["id"], str):
            raise NotRebuildable("its `after` is not an expense config")
        body[name] = {"id": ref["id"]}
    return body
