"""The sandbox's state: companies, their connections and expense configs in one SQLite file.

Several processes may share the file at once (a served sandbox, in-process sandboxes, the
`authorize` command): WAL journal, a generous busy timeout, `BEGIN IMMEDIATE` for every write
and one connection per thread. Methods return wire-shaped dicts (Codat's field names), so the
API layer serialises them as they are.

Data statuses, refreshes, sync settings and deleted records are in `datasets.DatasetStore`;
connection errors and expense configs in `errors_configs.ErrorsAndConfigs`; the SQLite plumbing
and the shared reads in `db.StoreDB`; the SQL text and the wire shapes in `sql`. This module
keeps Codat's rules for companies and connections.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence

from reconcile.sandbox.registry import (
    ACCOUNTING,
    ACTIVE_STATUSES,
    CONNECTABLE,
    CONNECTION_STATUSES,
    DEFAULT_BASE_URL,
    EXPENSE,
    LINKED,
    PARTNER_EXPENSE,
    PENDING_AUTH,
    UNLINKED,
    Integration,
)
from reconcile.sandbox.store.datasets import DatasetStore
from reconcile.sandbox.store.errors_configs import ErrorsAndConfigs
from reconcile.sandbox.store.filters import Condition, Ordering, Query
from reconcile.sandbox.store.sql import (
    COMPANY_COLUMNS,
    COMPANY_FIELDS,
    CONNECTION_COLUMNS,
    CONNECTION_FIELDS,
    UNSET,
    Conflict,
    NotFound,
    UnknownPlatform,
    Unset,
    Wire,
    connection_wire,
    link_url,
    now_iso,
    order_sql,
    redirect_url,
    select_page,
    where_company,
    where_sql,
)


class Store(ErrorsAndConfigs, DatasetStore):
    """Codat's state in one SQLite file; safe to share between threads and processes."""

    # ------------------------------------------------------------------ companies

    def create_company(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        link_base_url: str = DEFAULT_BASE_URL,
    ) -> Wire:
        company_id = str(uuid.uuid4())
        with self._write() as conn:
            self._insert_company(conn, company_id, name, description, tags or {}, link_base_url)
            return self._existing_company(conn, company_id)

    def create_companies(
        self,
        companies: Iterable[tuple[str, str | None, Mapping[str, str]]],
        *,
        link_base_url: str = DEFAULT_BASE_URL,
    ) -> list[str]:
        """Bulk insert (name, description, tags) in one transaction; returns the new ids."""
        ids: list[str] = []
        with self._write() as conn:
            for name, description, tags in companies:
                company_id = str(uuid.uuid4())
                self._insert_company(conn, company_id, name, description, tags, link_base_url)
                ids.append(company_id)
        return ids

    def _insert_company(
        self,
        conn: sqlite3.Connection,
        company_id: str,
        name: str,
        description: str | None,
        tags: Mapping[str, str],
        link_base_url: str,
    ) -> None:
        conn.execute(
            "INSERT INTO companies (id, name, description, redirect, created, tags)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                company_id,
                name,
                description,
                redirect_url(link_base_url, company_id),
                now_iso(self.clock()),  # the sandbox's clock: `sandbox clock` moves it
                json.dumps(dict(tags)),
            ),
        )
        conn.executemany(
            "INSERT INTO company_tags (company_id, key, value) VALUES (?, ?, ?)",
            [(company_id, key, value) for key, value in tags.items()],
        )

    def _get_company(self, conn: sqlite3.Connection, company_id: str) -> Wire | None:
        found = self._select_companies(conn, " WHERE c.id = ?", (company_id,))
        return found[0] if found else None

    def _existing_company(self, conn: sqlite3.Connection, company_id: str) -> Wire:
        company = self._get_company(conn, company_id)
        if company is None:
            raise NotFound(f"company {company_id}")
        return company

    def get_company(self, company_id: str) -> Wire | None:
        with self._read() as conn:
            return self._get_company(conn, company_id)

    def find_companies_by_tag(self, key: str, value: str) -> list[Wire]:
        with self._read() as conn:
            return self._select_companies(
                conn,
                " WHERE c.id IN (SELECT company_id FROM company_tags WHERE key = ? AND value = ?)"
                " ORDER BY c.seq",
                (key, value),
            )

    def list_companies(
        self,
        *,
        page: int = 1,
        page_size: int = 100,
        tags: Sequence[Condition] = (),
        query: Query | None = None,
        order: Ordering | None = None,
    ) -> tuple[list[Wire], int]:
        """One page of companies (with their connections) and the total that match."""
        where = where_sql(COMPANY_FIELDS, query, tags)
        ordered = order_sql(COMPANY_FIELDS, order, "c.seq")
        with self._read() as conn:
            rows, total = select_page(
                conn, COMPANY_COLUMNS, "companies c", where, ordered, page, page_size
            )
            return self._companies_with_connections(conn, rows), total

    def update_company(
        self,
        company_id: str,
        *,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
        tags: Mapping[str, str] | Unset = UNSET,
    ) -> Wire:
        """Change the given fields (PATCH); pass all three to replace (PUT)."""
        with self._on_company(company_id) as conn:
            if not isinstance(name, Unset):
                conn.execute("UPDATE companies SET name = ? WHERE id = ?", (name, company_id))
            if not isinstance(description, Unset):
                conn.execute(
                    "UPDATE companies SET description = ? WHERE id = ?", (description, company_id)
                )
            if not isinstance(tags, Unset):
                conn.execute(
                    "UPDATE companies SET tags = ? WHERE id = ?",
                    (json.dumps(dict(tags)), company_id),
                )
                conn.execute("DELETE FROM company_tags WHERE company_id = ?", (company_id,))
                conn.executemany(
                    "INSERT INTO company_tags (company_id, key, value) VALUES (?, ?, ?)",
                    [(company_id, key, value) for key, value in tags.items()],
                )
            return self._existing_company(conn, company_id)

    def delete_company(self, company_id: str) -> bool:
        """Delete a company with its connections, tags and config; False if there was none."""
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM companies WHERE id = ?", (company_id,))
            return int(cursor.rowcount) > 0

    def count_companies(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM companies").fetchone()[0])

    def count_active_companies(self) -> int:
        """Companies with at least one Linked connection (Codat's "active connected")."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT COUNT(DISTINCT company_id) FROM connections WHERE status = ?", (LINKED,)
            ).fetchone()
            return int(row[0])

    # ------------------------------------------------------------------ connections

    def _insert_connection(
        self,
        conn: sqlite3.Connection,
        company_id: str,
        integration: Integration,
        status: str,
        link_base_url: str,
    ) -> Wire:
        connection_id = str(uuid.uuid4())
        conn.execute(
            f"INSERT INTO connections ({CONNECTION_COLUMNS}) VALUES ({', '.join('?' * 10)})",
            (
                company_id,
                connection_id,
                integration.integration_id,
                integration.key,
                integration.source_id,
                integration.source_type,
                integration.name,
                link_url(link_base_url, company_id, connection_id),
                status,
                now_iso(self.clock()),
            ),
        )
        return self._connections(conn, company_id, " AND id = ?", (connection_id,))[0]

    def create_connection(self, company_id: str, platform_key: str, link_base_url: str) -> Wire:
        """A PendingAuth connection; Conflict for accounting while another one is active."""
        integration = CONNECTABLE.get(platform_key)
        if integration is None:
            raise UnknownPlatform(platform_key)
        with self._on_company(company_id) as conn:
            active = self._connections(
                conn,
                company_id,
                " AND source_type = ? AND status IN (?, ?)",
                (ACCOUNTING, *ACTIVE_STATUSES),
            )
            if active and integration.source_type == ACCOUNTING:
                raise Conflict(
                    f"company {company_id} already has an active accounting connection"
                    f" {active[0]['id']} ({active[0]['platformName']}, {active[0]['status']})"
                )
            return self._insert_connection(
                conn, company_id, integration, PENDING_AUTH, link_base_url
            )

    def create_partner_expense_connection(self, company_id: str, link_base_url: str) -> Wire:
        """The Linked partner expense connection; the existing one if already Linked.

        Raises Conflict while the company's accounting connection awaits authorization.
        """
        with self._on_company(company_id) as conn:
            linked = self._connections(
                conn, company_id, " AND source_type = ? AND status = ?", (EXPENSE, LINKED)
            )
            if linked:
                return linked[0]
            accounting = self._connections(
                conn,
                company_id,
                " AND source_type = ? AND status IN (?, ?)",
                (ACCOUNTING, *ACTIVE_STATUSES),
            )
            if accounting and all(c["status"] != LINKED for c in accounting):
                # Codat: create it after the customer has authorized the accounting connection.
                raise Conflict(
                    f"The accounting connection {accounting[0]['id']} of company {company_id} "
                    "is not authorized yet; create the partner expense connection once it is "
                    "Linked."
                )
            return self._insert_connection(conn, company_id, PARTNER_EXPENSE, LINKED, link_base_url)

    def get_connection(self, company_id: str, connection_id: str) -> Wire | None:
        with self._read() as conn:
            found = self._connections(conn, company_id, " AND id = ?", (connection_id,))
            return found[0] if found else None

    def list_connections(
        self,
        company_id: str,
        *,
        page: int = 1,
        page_size: int = 100,
        query: Query | None = None,
        order: Ordering | None = None,
    ) -> tuple[list[Wire], int]:
        where = where_company(CONNECTION_FIELDS, query, company_id)
        ordered = order_sql(CONNECTION_FIELDS, order, "seq")
        with self._on_company(company_id, write=False) as conn:
            rows, total = select_page(
                conn, CONNECTION_COLUMNS, "connections", where, ordered, page, page_size
            )
            found = [connection_wire(row, self.omit_integration_key) for row in rows]
            return self._with_errors(conn, found), total

    def set_connection_status(self, company_id: str, connection_id: str, status: str) -> Wire:
        """Set any status (the customer's side: Link page, authorize, deauthorize)."""
        if status not in CONNECTION_STATUSES:
            raise ValueError(f"unknown connection status {status!r}")
        with self._write() as conn:
            updated = conn.execute(
                "UPDATE connections SET status = ? WHERE company_id = ? AND id = ?",
                (status, company_id, connection_id),
            ).rowcount
            if not updated:
                raise NotFound(f"connection {connection_id} of company {company_id}")
            return self._connections(conn, company_id, " AND id = ?", (connection_id,))[0]

    def unlink_connection(self, company_id: str, connection_id: str) -> Wire:
        """The API's unlink: only a Linked connection can become Unlinked."""
        with self._write() as conn:
            found = self._connections(conn, company_id, " AND id = ?", (connection_id,))
            if not found:
                raise NotFound(f"connection {connection_id} of company {company_id}")
            if found[0]["status"] != LINKED:
                raise Conflict(
                    f"connection {connection_id} is {found[0]['status']}; only a Linked"
                    " connection can be unlinked"
                )
            return self.set_connection_status(company_id, connection_id, UNLINKED)

    def delete_connection(self, company_id: str, connection_id: str) -> bool:
        with self._write() as conn:
            deleted: int = conn.execute(
                "DELETE FROM connections WHERE company_id = ? AND id = ?",
                (company_id, connection_id),
            ).rowcount
            return deleted > 0

    def linked_accounting_platform(self, company_id: str) -> str | None:
        """The platform key of the company's Linked accounting connection, if any."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT integration_key FROM connections WHERE company_id = ?"
                " AND source_type = ? AND status = ? ORDER BY seq DESC LIMIT 1",
                (company_id, ACCOUNTING, LINKED),
            ).fetchone()
            return None if row is None else str(row[0])
