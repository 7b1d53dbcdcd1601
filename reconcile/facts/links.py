"""A connection's Link URL, read at the moment it is sent (a one-time Link URL expires after a
day and works once: a reminder must carry a fresh one, never one read by an earlier pass)."""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.codat import CodatClient, CodatHTTPError
from reconcile.model import Status

AUTHORIZABLE = frozenset({Status.PENDING_AUTH.value, Status.DEAUTHORIZED.value})


@dataclass(frozen=True)
class LinkRead:
    status: str
    link_url: str | None  # None once the connection no longer waits for the customer


class LinkReader:
    def __init__(self, client: CodatClient) -> None:
        self.client = client

    async def __call__(self, company_id: str, connection_id: str) -> LinkRead | None:
        """The connection's status and, while the customer must (re-)authorize it, its Link
        URL; None when it is gone. Other errors are the client's (`CodatError`)."""
        try:
            conn = await self.client.get_connection(company_id, connection_id)
        except CodatHTTPError as exc:
            if exc.status == 404:
                return None
            raise
        return LinkRead(conn.status, conn.link_url if conn.status in AUTHORIZABLE else None)
