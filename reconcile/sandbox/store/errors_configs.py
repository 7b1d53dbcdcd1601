"""The two tables beside companies and connections: a connection's `dataConnectionErrors` and
a company's expense config. A base of `Store`, kept apart to keep the store small."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconcile.sandbox.registry import ERROR_ACTIVE, ERROR_RESOLVED
from reconcile.sandbox.store.db import StoreDB
from reconcile.sandbox.store.sql import NotFound, Wire, now_iso


class ErrorsAndConfigs(StoreDB):
    # ------------------------------------------------------------------ connection errors

    def add_connection_error(
        self,
        company_id: str,
        connection_id: str,
        message: str,
        *,
        status_code: str | None = None,
        status_text: str | None = None,
        errored_on: str | None = None,
    ) -> Wire:
        """Put an Active entry in the connection's `dataConnectionErrors`; the connection."""
        with self._write() as conn:
            if not self._connections(conn, company_id, " AND id = ?", (connection_id,)):
                raise NotFound(f"connection {connection_id} of company {company_id}")
            conn.execute(
                "INSERT INTO connection_errors (connection_id, status_code, status_text,"
                " error_message, errored_on, status) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    connection_id,
                    status_code,
                    status_text,
                    message,
                    errored_on or now_iso(),
                    ERROR_ACTIVE,
                ),
            )
            return self._connections(conn, company_id, " AND id = ?", (connection_id,))[0]

    def resolve_connection_errors(
        self, company_id: str, connection_id: str, *, message: str | None = None
    ) -> int:
        """Mark the connection's Active errors (those with `message`, if given) Resolved now;
        returns how many."""
        with self._write() as conn:
            if not self._connections(conn, company_id, " AND id = ?", (connection_id,)):
                raise NotFound(f"connection {connection_id} of company {company_id}")
            only = "" if message is None else " AND error_message = ?"
            cursor = conn.execute(
                "UPDATE connection_errors SET status = ?, resolved_on = ?"
                f" WHERE connection_id = ? AND status = ?{only}",
                (
                    ERROR_RESOLVED,
                    now_iso(),
                    connection_id,
                    ERROR_ACTIVE,
                    *(() if message is None else (message,)),
                ),
            )
            return int(cursor.rowcount)

    # ------------------------------------------------------------------ expense config

    def get_expense_config(self, company_id: str) -> Wire | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT config FROM expense_configs WHERE company_id = ?", (company_id,)
            ).fetchone()
            return None if row is None else dict(json.loads(row[0]))

    def set_expense_config(self, company_id: str, config: Mapping[str, Any]) -> Wire:
        with self._on_company(company_id) as conn:
            conn.execute(
                "INSERT INTO expense_configs (company_id, config) VALUES (?, ?)"
                " ON CONFLICT (company_id) DO UPDATE SET config = excluded.config",
                (company_id, json.dumps(dict(config))),
            )
        return dict(config)
