"""What happened to a connection or a company, in the words of the action that follows it: a
customer who disconnected their accounting platform (who, when, what it stops), an authorized
connection or a company deleted behind the tool (the customer must authorize again), a partner
expense connection unlinked behind the tool, a Deauthorized connection's date.

Codat's Connection has no status-change date: the nearest Codat says is a
`dataConnectionErrors[].erroredOnUtc` (`Connection.changed_on`); without one, the date given is
the connection's creation, and the words say so.
"""

from __future__ import annotations

from reconcile.model import Connection, Customer, Platform, Status
from reconcile.plans import CUT_OFF, MUST_AUTHORIZE_AGAIN

Why = tuple[str | None, Connection | None]  # an action's reason, and the connection it replaces


def since_why(conn: Connection) -> str:
    if conn.changed_on:
        return " (since: when Codat reported the error that stopped it)"
    return " (Codat gives no date for the change: since is when the connection was created)"


def _when(conn: Connection) -> str:
    if conn.changed_on:
        return f"Codat reported an error on {conn.changed_on}"
    return f"Codat gives no date for it; the connection was created {conn.created}"


def disconnected(platform: Platform, connections: tuple[Connection, ...]) -> Why:
    """Why P is created again when the customer disconnected it: who, when, what it stops."""
    gone = [
        c
        for c in connections
        if c.is_accounting and c.platform == platform and c.status == Status.UNLINKED.value
    ]
    if not gone:
        return None, None
    conn = gone[-1]
    partner = [c for c in connections if c.is_partner_expense and c.status == Status.LINKED.value]
    stops = (
        "expenses stopped syncing to it, though the partner expense connection is still Linked"
        if partner
        else "expenses stopped syncing to it"
    )
    return (
        f"the customer's {platform.name} connection {conn.id} was disconnected (Unlinked; "
        f"{_when(conn)}): {stops}; {MUST_AUTHORIZE_AGAIN}. A new link is created for the "
        "customer to authorize",
        conn,
    )


def company_gone(customer: Customer, existed: frozenset[str]) -> str:
    """Why a customer's company is created: new, or deleted behind the tool (its entry is in
    the base files, `existed`, so an earlier apply made it)."""
    nothing = f"no company carries reconcile.uid={customer.uid}"
    if customer.uid not in existed:
        return nothing
    if customer.accounting is None:
        return (
            f"its company was deleted outside the tool ({customer.uid} is in the base files; "
            f"{nothing})"
        )
    return (
        f"its company was {CUT_OFF} ({customer.uid} is in the base files, so an earlier apply "
        f"made its company; {nothing} now)"
    )


def connection_gone(
    platform: Platform, connections: tuple[Connection, ...], has_config: bool
) -> Why:
    """What happened to the connection a create of P replaces: disconnected by the customer
    (Unlinked), deleted behind the tool (what only a Linked one leaves), or nothing."""
    why = disconnected(platform, connections)
    return why if why[0] is not None else deleted(platform, connections, has_config)


def deleted(platform: Platform, connections: tuple[Connection, ...], has_config: bool) -> Why:
    """Why P is created again when its Linked connection was deleted behind the tool: Codat
    keeps no trace of it, but the company still holds what is made only once accounting is
    Linked (the partner expense connection, an expense config) and no other accounting
    connection is active (so this is not a platform change)."""
    if any(c.is_accounting and (c.platform == platform or c.active) for c in connections):
        return None, None
    partner = [c for c in connections if c.is_partner_expense]
    evidence = [
        f"the company still holds its {c.status} partner expense connection" for c in partner[:1]
    ]
    if has_config:
        evidence.append("it still has an expense config")
    if not evidence:
        return None, None
    return (
        f"the customer's {platform.name} connection was {CUT_OFF} ("
        + " and ".join(evidence)
        + ", made only once accounting was Linked). A new link is created for the customer to "
        "authorize",
        None,
    )


def partner_gone(connections: tuple[Connection, ...]) -> Why:
    """Why the partner expense connection is created again, when one existed."""
    gone = [
        c
        for c in connections
        if c.is_partner_expense and c.status in (Status.UNLINKED.value, Status.DEAUTHORIZED.value)
    ]
    if not gone:
        return None, None
    conn = gone[-1]
    return (
        f"re-created: the partner expense connection {conn.id} is {conn.status} ({_when(conn)}), "
        "unlinked in Codat's portal or by the customer, and the file says expenses: true",
        conn,
    )
