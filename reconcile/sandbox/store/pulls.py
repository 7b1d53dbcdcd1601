"""Codat's pull operations (`GET /companies/{companyId}/data/history`): every refresh of a
company's data is recorded, one operation per data type, as Codat records it.

Choices the specs leave open, kept simple and deterministic:
- a `POST .../data/all` records one operation per data type it refreshes, requested at the
  store's clock (injected: `Store(clock=...)`); the refresh completes at once (the data status
  says so), so each is `Complete` (or `FetchError`, where the data type fails or the connection
  has an Active error), completed when requested;
- scheduled syncs and the fetch on first link are computed on read by the data status, not
  recorded here: the history holds the refreshes someone asked for;
- the list pages like every Codat list; `query=` and `orderBy=` apply to `id`, `dataType`,
  `status`, `requested` and `completed` (times compare as Codat's ISO 8601 text); by default
  the oldest first.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable
from typing import Final

from reconcile.sandbox.store.sql import Wire, wire_columns

STATEMENTS: Final = (
    """CREATE TABLE IF NOT EXISTS pull_operations (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        company_id    TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
        connection_id TEXT NOT NULL,
        data_type     TEXT NOT NULL,
        status        TEXT NOT NULL,
        requested     TEXT NOT NULL,
        completed     TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS pull_operations_by_company"
    " ON pull_operations(company_id, requested)",
)
PULL_FIELDS: Final = wire_columns("id", "dataType", "status", "requested", "completed")
_COMPLETE: Final = "Complete"
_ERRORS: Final = frozenset({"FetchError", "MapError", "InternalError", "AuthError"})


def record_pulls(
    conn: sqlite3.Connection,
    company_id: str,
    connection_id: str,
    done: Iterable[tuple[str, str]],
    requested: str,
) -> None:
    """One pull operation per (data type, final status), requested and completed now."""
    conn.executemany(
        "INSERT INTO pull_operations (id, company_id, connection_id, data_type, status,"
        " requested, completed) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (str(uuid.uuid4()), company_id, connection_id, data_type, status, requested, requested)
            for data_type, status in done
        ],
    )


def pull_wire(row: tuple[str, ...]) -> Wire:
    op_id, company_id, connection_id, data_type, status, requested, completed = row
    wire: Wire = {
        "id": op_id,
        "companyId": company_id,
        "connectionId": connection_id,
        "dataType": data_type,
        "status": status,
        "requested": requested,
        "progress": 100 if completed else 0,
        "isCompleted": status == _COMPLETE,
        "isErrored": status in _ERRORS,
    }
    if completed:
        wire["completed"] = completed
    return wire


PULL_COLUMNS: Final = "id, company_id, connection_id, data_type, status, requested, completed"
