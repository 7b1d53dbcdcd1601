"""One-time Link URLs (`sandbox serve --one-time-links`), as Codat issues them for some clients.

Each read of a connection (`GET` of it, of its company, or of a listing) answers a fresh
`linkUrl` carrying a ticket: `.../start?ticket=T`. A ticket works once, within a day of being
issued (by the sandbox's injected clock); opening it sets a session cookie for that connection's
pages (the choices the page offers, for an hour) and redirects to the page without the ticket. An
old, used or unknown ticket answers 410 with a page that says to ask for a fresh link.

Without the flag the stored `linkUrl` is answered unchanged and the Link pages need no ticket.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlencode

from starlette.requests import Request

from reconcile.sandbox.layers.common import LayerDB
from reconcile.sandbox.store.unit import current_unit

TICKET_PARAM: Final = "ticket"
SESSION_COOKIE: Final = "codat_link_session"
LIFETIME_SECONDS: Final = 86_400.0  # a ticket expires after a day
SESSION_SECONDS: Final = 3_600.0  # the choices stay open this long after the ticket is used
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS sandbox_link_tickets (
    ticket        TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    issued        REAL NOT NULL,
    used          REAL
)
"""
Refusal = Literal["unknown", "used", "expired"]


class OneTimeLinks:
    """Tickets in the sandbox's SQLite file (every process serving it honours them)."""

    def __init__(self, db_path: Path, clock: Callable[[], float] = time.time) -> None:
        self._db = LayerDB(db_path, _SCHEMA)
        self.db_path = db_path
        self.clock = clock

    async def _begin(self) -> None:
        unit = current_unit()
        if unit is not None and unit.covers(self.db_path):
            await unit.begin()

    async def issue(self, company_id: str, connection_id: str) -> str:
        await self._begin()
        ticket = secrets.token_urlsafe(24)
        self._db.write(
            "INSERT INTO sandbox_link_tickets (ticket, company_id, connection_id, issued)"
            " VALUES (?, ?, ?, ?)",
            (ticket, company_id, connection_id, self.clock()),
        )
        return ticket

    async def redeem(self, company_id: str, connection_id: str, ticket: str) -> Refusal | None:
        """None if the ticket opens this connection now (it is then used up); else why not."""
        await self._begin()
        now = self.clock()
        rows, _ = self._db.write(
            "UPDATE sandbox_link_tickets SET used = ? WHERE ticket = ? AND company_id = ?"
            " AND connection_id = ? AND used IS NULL AND issued > ? RETURNING ticket",
            (now, ticket, company_id, connection_id, now - LIFETIME_SECONDS),
        )
        if rows:
            return None
        row = self._row(company_id, connection_id, ticket)
        if row is None:
            return "unknown"
        return "used" if row[1] is not None else "expired"

    def session(self, company_id: str, connection_id: str, ticket: str | None) -> bool:
        """Whether `ticket` (the session cookie) was used for this connection within the hour."""
        if not ticket:
            return False
        row = self._row(company_id, connection_id, ticket)
        return row is not None and row[1] is not None and self.clock() - row[1] < SESSION_SECONDS

    def _row(self, company_id: str, connection_id: str, ticket: str) -> tuple[Any, ...] | None:
        found = self._db.conn.execute(
            "SELECT issued, used FROM sandbox_link_tickets"
            " WHERE ticket = ? AND company_id = ? AND connection_id = ?",
            (ticket, company_id, connection_id),
        ).fetchone()
        return tuple(found) if found is not None else None


def one_time_links(request: Request) -> OneTimeLinks | None:
    found: OneTimeLinks | None = getattr(request.app.state, "one_time_links", None)
    return found


async def fresh_links(request: Request, body: Any) -> Any:
    """`body` (a connection, a company, or a page of either) with a fresh one-time `linkUrl` on
    each connection, when the sandbox issues them; unchanged otherwise."""
    links = one_time_links(request)
    if links is None:
        return body
    for company_id, connection in _connections(body, None):
        ticket = await links.issue(company_id, str(connection["id"]))
        base = str(connection["linkUrl"]).split("?", 1)[0]
        connection["linkUrl"] = f"{base}?{urlencode({TICKET_PARAM: ticket})}"
    return body


def _connections(body: Any, company_id: str | None) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(body, dict):
        if isinstance(body.get("results"), list):
            return [pair for item in body["results"] for pair in _connections(item, company_id)]
        if isinstance(body.get("dataConnections"), list):
            own = str(body.get("id", company_id))
            return [pair for c in body["dataConnections"] for pair in _connections(c, own)]
        if "linkUrl" in body and "id" in body:
            owner = company_id or _company_of(str(body["linkUrl"]))
            return [(owner, body)] if owner else []
    return []


def _company_of(link_url: str) -> str | None:
    """The company id in a connection's Link URL (`.../link/companies/{id}/connections/...`)."""
    parts = link_url.split("?", 1)[0].split("/")
    try:
        return parts[parts.index("companies") + 1]
    except (ValueError, IndexError):
        return None
