"""Where each declared customer is in the onboarding funnel, from one read of Codat.

    declared             in the file; no company (or no accounting connection) yet
    awaiting             the accounting connection waits for the customer (PendingAuth)
    reauthorization      the accounting connection was Deauthorized (or Unlinked)
    authorized           the accounting connection is Linked
    partner_connection   ... and the partner expense connection exists
    configured           ... and the Sync for Expenses config is set

Plain data out: no Link URL and no company id (a pending company's id is a secret,
docs/design.md §11).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reconcile.model import Company, Connection, DesiredState, LiveState, Status
from reconcile.model.onboarding import Onboarding


def onboarding(desired: DesiredState, live: LiveState) -> tuple[Onboarding, ...]:
    """Each declared (present) customer of `desired`, as `live` shows it, in file order."""
    by_uid: dict[str, Company] = {}
    for company in live.companies:
        if company.owner == desired.owner and company.uid and company.uid not in by_uid:
            by_uid[company.uid] = company
    rows = []
    for customer in desired.customers:
        if customer.state != "present":
            continue
        rows.append(_row(customer.uid, customer.name, by_uid.get(customer.uid), live))
    return tuple(rows)


def _row(uid: str, name: str, company: Company | None, live: LiveState) -> Onboarding:
    if company is None:
        return Onboarding(uid, name, "declared")
    accounting = _accounting(company.connections)
    if accounting is None:
        return Onboarding(uid, name, "declared")
    platform = accounting.platform_name
    error = _error(company.connections)
    if accounting.status == Status.PENDING_AUTH.value:
        return Onboarding(uid, name, "awaiting", platform, accounting.created, error)
    if accounting.status != Status.LINKED.value:
        since = accounting.changed_on or accounting.created
        return Onboarding(uid, name, "reauthorization", platform, since, error)
    if not any(c.is_partner_expense and c.active for c in company.connections):
        return Onboarding(uid, name, "authorized", platform, error=error)
    if live.expense_configs.get(company.id) is None:
        return Onboarding(uid, name, "partner_connection", platform, error=error)
    return Onboarding(uid, name, "configured", platform, error=error)


def _accounting(connections: tuple[Connection, ...]) -> Connection | None:
    mine = [c for c in connections if c.is_accounting and c.platform is not None]
    for status in (Status.LINKED.value, Status.PENDING_AUTH.value):
        for connection in mine:
            if connection.status == status:
                return connection
    return mine[0] if mine else None


def _error(connections: tuple[Connection, ...]) -> str | None:
    active = [e for c in connections for e in c.errors if e.active]
    if not active:
        return None
    newest = max(active, key=lambda e: e.errored_on_utc or "")
    return newest.message or newest.status_text or newest.status_code or "an error"


def after_pass(
    rows: tuple[Onboarding, ...], applied: Mapping[str, frozenset[str]]
) -> tuple[Onboarding, ...]:
    """`rows` (read before a pass) as the pass left them: the partner expense connection and
    the expense config it made (`applied`: uid -> action kinds applied) move a customer on."""
    moved = []
    for row in rows:
        kinds = applied.get(row.uid, frozenset())
        stage = row.stage
        if stage == "authorized" and "create_partner_expense" in kinds:
            stage = "partner_connection"
        if stage == "partner_connection" and "set_expense_config" in kinds:
            stage = "configured"
        moved.append(replace(row, stage=stage) if stage != row.stage else row)
    return tuple(moved)
