"""The store's SQLite plumbing: one connection per thread (and process), WAL, transactions, and
the wire-shaped reads of companies and connections that every part of the store builds on.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from reconcile.sandbox.store.sql import (
    COMPANY_COLUMNS,
    CONNECTION_COLUMNS,
    ERROR_COLUMNS,
    SCHEMA,
    NotFound,
    Wire,
    company_wire,
    connection_wire,
    error_wire,
)
from reconcile.sandbox.store.sqlite_file import connect
from reconcile.sandbox.store.unit import Unit, current_unit
from reconcile.sandbox.store.writer import process_id, writer_lock
from reconcile.sandbox.webhooks.schema import STATEMENTS as WEBHOOK_STATEMENTS


@contextmanager
def _joined(unit: Unit) -> Iterator[sqlite3.Connection]:
    """A savepoint in the request's open transaction: undone alone if the block raises."""
    name = unit.savepoint()
    conn = unit.conn
    try:
        yield conn
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


class StoreDB:
    """The SQLite side of the store: connections per thread and process, transactions, and the
    wire-shaped reads every part of the store shares."""

    def __init__(self, db_path: str | os.PathLike[str], *, omit_integration_key: bool = False):
        self.db_path = Path(db_path)
        self._key = os.fspath(self.db_path)
        self.omit_integration_key = omit_integration_key
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        conn = self._conn()
        with self._write():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for statement in WEBHOOK_STATEMENTS:  # the webhook outbox and its triggers
                conn.execute(statement)

    # ------------------------------------------------------------------ connections to SQLite

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == process_id():
            return conn
        conn = connect(self.db_path)
        self._local.conn, self._local.pid, self._local.depth = conn, process_id(), 0
        with self._opened_lock:
            self._opened.append(conn)
        return conn

    @contextmanager
    def _txn(self, begin: str) -> Iterator[sqlite3.Connection]:
        unit = current_unit()
        if unit is not None and unit.covers(self._key):  # the request's transaction (unit.py)
            if begin != "BEGIN IMMEDIATE":
                yield unit.conn  # a read: nothing to undo, so no savepoint
                return
            with _joined(unit) as joined:
                yield joined
            return
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        lock = writer_lock(self.db_path) if begin == "BEGIN IMMEDIATE" else None
        if lock is not None:
            lock.acquire()  # one writer at a time in this process (see writer.py)
        try:
            conn.execute(begin)
            self._local.depth = 1
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._local.depth = 0
        finally:
            if lock is not None:
                lock.release()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._txn("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._txn("BEGIN")

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction (`BEGIN IMMEDIATE`); store calls inside it join it."""
        return self._write()

    def close(self) -> None:
        with self._opened_lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()

    # ------------------------------------------------------------------ wire shapes

    def _companies_with_connections(
        self, conn: sqlite3.Connection, rows: list[Sequence[Any]]
    ) -> list[Wire]:
        """Attach connections to a page of companies with one query, not one per company."""
        by_company: dict[str, list[Wire]] = {row[0]: [] for row in rows}
        if by_company:
            connections: list[Wire] = []
            if len(by_company) == 1:  # one company (a get, a create): its index, no JSON
                found = conn.execute(
                    f"SELECT {CONNECTION_COLUMNS} FROM connections WHERE company_id = ?"
                    " ORDER BY seq",
                    (rows[0][0],),
                )
            else:
                found = conn.execute(
                    f"SELECT {CONNECTION_COLUMNS} FROM connections"
                    " WHERE company_id IN (SELECT value FROM json_each(?)) ORDER BY seq",
                    (json.dumps(list(by_company)),),
                )
            for crow in found:
                wire = connection_wire(crow, self.omit_integration_key)
                by_company[crow[0]].append(wire)
                connections.append(wire)
            self._with_errors(conn, connections)
        return [company_wire(row, by_company[row[0]]) for row in rows]

    @staticmethod
    def _with_errors(conn: sqlite3.Connection, connections: list[Wire]) -> list[Wire]:
        """Add `dataConnectionErrors` to the connections that have any: one query, and none at
        all while no connection has ever had an error."""
        if (
            not connections
            or not conn.execute("SELECT 1 FROM connection_errors LIMIT 1").fetchone()
        ):
            return connections
        by_id = {c["id"]: c for c in connections}
        for row in conn.execute(
            f"SELECT {ERROR_COLUMNS} FROM connection_errors"
            " WHERE connection_id IN (SELECT value FROM json_each(?)) ORDER BY seq",
            (json.dumps(list(by_id)),),
        ):
            by_id[row[0]].setdefault("dataConnectionErrors", []).append(error_wire(row))
        return connections

    def _select_companies(
        self, conn: sqlite3.Connection, where: str, params: Sequence[Any]
    ) -> list[Wire]:
        rows = conn.execute(f"SELECT {COMPANY_COLUMNS} FROM companies c{where}", params).fetchall()
        return self._companies_with_connections(conn, rows)

    @contextmanager
    def _on_company(self, company_id: str, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A transaction (a write one unless `write` is False) on a company that exists;
        `NotFound` when it does not."""
        with self._write() if write else self._read() as conn:
            if not self._company_exists(conn, company_id):
                raise NotFound(f"company {company_id}")
            yield conn

    # ------------------------------------------------------------------ shared reads

    def _company_exists(self, conn: sqlite3.Connection, company_id: str) -> bool:
        return (
            conn.execute("SELECT 1 FROM companies WHERE id = ?", (company_id,)).fetchone()
            is not None
        )

    def _connections(
        self, conn: sqlite3.Connection, company_id: str, extra: str = "", params: Sequence[Any] = ()
    ) -> list[Wire]:
        found = [
            connection_wire(row, self.omit_integration_key)
            for row in conn.execute(
                f"SELECT {CONNECTION_COLUMNS} FROM connections WHERE company_id = ?{extra}"
                " ORDER BY seq",
                (company_id, *params),
            )
        ]
        return self._with_errors(conn, found)
