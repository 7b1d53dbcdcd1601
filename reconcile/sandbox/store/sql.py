"""The SQL side of the sandbox's store: schema, column lists, filters as SQL, wire shapes.

`store.Store` runs these; nothing here touches a connection of its own.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from reconcile.sandbox.store.filters import Condition, Ordering, Query

Wire = dict[str, Any]

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS companies (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT,
    redirect    TEXT NOT NULL,
    created     TEXT NOT NULL,
    tags        TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS company_tags (
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (company_id, key)
);
CREATE INDEX IF NOT EXISTS company_tags_by_value ON company_tags(key, value);
CREATE TABLE IF NOT EXISTS connections (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    company_id      TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    integration_key TEXT NOT NULL,
    integration_id  TEXT NOT NULL,
    source_id       TEXT NOT NULL,
    source_type     TEXT NOT NULL,
    platform_name   TEXT NOT NULL,
    link_url        TEXT NOT NULL,
    status          TEXT NOT NULL,
    created         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS connections_by_company ON connections(company_id, seq);
CREATE TABLE IF NOT EXISTS expense_configs (
    company_id TEXT PRIMARY KEY REFERENCES companies(id) ON DELETE CASCADE,
    config     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS connection_errors (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    status_code   TEXT,
    status_text   TEXT,
    error_message TEXT,
    errored_on    TEXT NOT NULL,
    status        TEXT NOT NULL,
    resolved_on   TEXT
);
CREATE INDEX IF NOT EXISTS connection_errors_by_connection ON connection_errors(connection_id, seq);
"""

COMPANY_COLUMNS: Final = "c.id, c.name, c.description, c.redirect, c.created, c.tags"
CONNECTION_COLUMNS: Final = (
    "company_id, id, integration_id, integration_key, source_id, source_type, platform_name,"
    " link_url, status, created"
)
ERROR_COLUMNS: Final = (
    "connection_id, status_code, status_text, error_message, errored_on, status, resolved_on"
)


def wire_columns(*fields: str, table: str = "") -> dict[str, str]:
    """Wire field -> SQL column, for `query=` and `orderBy=`: each field's column is its name in
    snake case (`sourceType`: `source_type`), of `table` (an alias) when given."""
    prefix = f"{table}." if table else ""
    return {field: prefix + re.sub("([A-Z])", r"_\1", field).lower() for field in fields}


COMPANY_FIELDS: Final = wire_columns("id", "name", "description", "created", table="c")
CONNECTION_FIELDS: Final = wire_columns(
    "id", "status", "sourceType", "platformName", "integrationKey", "integrationId", "created"
)


class StoreError(Exception):
    """A request the state cannot honour."""


class NotFound(StoreError, LookupError):
    """No such company or connection."""


class Conflict(StoreError):
    """The state forbids it (a second active accounting connection, unlinking a non-Linked one)."""


class UnknownPlatform(StoreError, LookupError):
    """A platform key the sandbox does not know."""


class Unset:
    """Marks a field a PATCH leaves alone."""


UNSET: Final = Unset()


def now_iso(moment: float | None = None) -> str:
    """`moment` (seconds since the epoch; the machine's time without one) as Codat writes dates."""
    when = datetime.now(UTC) if moment is None else datetime.fromtimestamp(moment, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link_url(base_url: str, company_id: str, connection_id: str) -> str:
    base = base_url.rstrip("/")
    return f"{base}/link/companies/{company_id}/connections/{connection_id}/start"


def redirect_url(base_url: str, company_id: str) -> str:
    return f"{base_url.rstrip('/')}/link/companies/{company_id}"


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _condition_sql(column: str, condition: Condition) -> tuple[str, list[str]]:
    if condition.op == "~":
        return f"{column} LIKE ? ESCAPE '\\'", [_like_pattern(condition.value)]
    if condition.op == "!=":
        return f"({column} IS NULL OR {column} != ?)", [condition.value]
    return f"{column} {condition.op} ?", [condition.value]


def _tag_sql(condition: Condition) -> tuple[str, list[str]]:
    subquery = "SELECT company_id FROM company_tags WHERE key = ? AND value"
    if condition.op == "~":
        return (
            f"c.id IN ({subquery} LIKE ? ESCAPE '\\')",
            [condition.field, _like_pattern(condition.value)],
        )
    negate = "NOT " if condition.op == "!=" else ""
    return f"c.id {negate}IN ({subquery} = ?)", [condition.field, condition.value]


def where_sql(
    fields: Mapping[str, str], query: Query | None, tags: Sequence[Condition] = ()
) -> tuple[str, list[str]]:
    clauses: list[str] = []
    params: list[str] = []
    for tag in tags:
        sql, values = _tag_sql(tag)
        clauses.append(sql)
        params += values
    if query:
        groups = []
        for group in query:
            parts = []
            for condition in group:
                sql, values = _condition_sql(fields[condition.field], condition)
                parts.append(sql)
                params += values
            groups.append("(" + " AND ".join(parts) + ")")
        clauses.append("(" + " OR ".join(groups) + ")")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def order_sql(fields: Mapping[str, str], order: Ordering | None, seq: str) -> str:
    if order is None:
        return f" ORDER BY {seq}"
    direction = "DESC" if order.descending else "ASC"
    return f" ORDER BY {fields[order.field]} {direction}, {seq} {direction}"


def connection_wire(row: Sequence[Any], omit_integration_key: bool) -> Wire:
    """A `CONNECTION_COLUMNS` row as Codat's Connection."""
    (_, cid, integration_id, key, source_id, source_type, name, link, status, created) = row
    wire: Wire = {"id": cid, "integrationId": integration_id}
    if not omit_integration_key:
        wire["integrationKey"] = key
    wire.update(
        sourceId=source_id,
        platformName=name,
        linkUrl=link,
        status=status,
        created=created,
        sourceType=source_type,
    )
    return wire


def company_wire(row: Sequence[Any], connections: list[Wire]) -> Wire:
    """A `COMPANY_COLUMNS` row and its connections as Codat's Company."""
    company_id, name, description, redirect, created, tags = row
    wire: Wire = {"id": company_id, "name": name}
    if description is not None:
        wire["description"] = description
    wire.update(
        redirect=redirect,
        created=created,
        products=[],
        tags=json.loads(tags),
        dataConnections=connections,
    )
    return wire


def error_wire(row: Sequence[Any]) -> Wire:
    """An `ERROR_COLUMNS` row as an entry of Codat's `dataConnectionErrors`."""
    _, status_code, status_text, message, errored_on, status, resolved_on = row
    wire: Wire = {}
    if status_code is not None:
        wire["statusCode"] = status_code
    if status_text is not None:
        wire["statusText"] = status_text
    if message is not None:
        wire["errorMessage"] = message
    wire.update(erroredOnUtc=errored_on, status=status)
    if resolved_on is not None:
        wire["resolvedOnUtc"] = resolved_on
    return wire


def select_page(
    conn: sqlite3.Connection,
    columns: str,
    table: str,
    where: tuple[str, Sequence[Any]],
    order: str,
    page: int,
    page_size: int,
) -> tuple[list[Any], int]:
    """One page of `columns` from `table` (with its alias), filtered by `where` (the SQL and its
    parameters) and ordered by `order`, and the count of every row that matches."""
    condition, params = where
    total = conn.execute(f"SELECT COUNT(*) FROM {table}{condition}", params).fetchone()[0]
    rows = conn.execute(
        f"SELECT {columns} FROM {table}{condition}{order} LIMIT ? OFFSET ?",
        [*params, page_size, (page - 1) * page_size],
    ).fetchall()
    return rows, int(total)


def where_company(
    fields: Mapping[str, str], query: Query | None, company_id: str
) -> tuple[str, list[Any]]:
    """`where_sql` of a table of one company's rows (`company_id`), scoped to that company."""
    where, params = where_sql(fields, query)
    return (where + " AND" if where else " WHERE") + " company_id = ?", [*params, company_id]
