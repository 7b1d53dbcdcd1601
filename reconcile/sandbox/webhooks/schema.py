"""The SQL of the sandbox's webhooks: consumers, the outbox of events, and their deliveries.

Events are recorded by SQLite triggers, so they are written in the same transaction as the
change that causes them, whichever process makes it: the served sandbox, an in-process
`--sandbox`, or `reconcile sandbox authorize` writing the file from another process. The
serving process delivers them from the outbox (`webhooks.delivery`).

A trigger records an event only while some consumer is enabled (as Codat sends nothing to
nobody), so a sandbox without consumers pays one tiny lookup per change and keeps no outbox.
Each event holds snapshots, taken at the moment of the change, of the company row
(`store.sql.COMPANY_COLUMNS` order) and, for connection events, of the connection row
(`CONNECTION_COLUMNS` order) and its errors (`ERROR_COLUMNS` order); `webhooks.events` turns
them into Codat's wire shapes. A connection deleted with its company (the cascade) sends no
`connection.deleted`: only the `company.deleted`.

Status changes map onto Codat's event types as Codat-Platform.json describes them:
PendingAuth -> Linked is `connection.connected`; Unlinked or Deauthorized -> Linked is
`connection.reconnected`; Linked -> Unlinked or Deauthorized is `connection.disconnected`.

Client events (`client.rateLimit.reached|reset`) concern no company: the rate limiter records
them with their payload (`webhooks.store.record_quota_reached`), the reset one not to be sent
before `not_before` (the quota's reset time).
"""

from __future__ import annotations

from typing import Final

COMPANY_CREATED: Final = "company.created"
COMPANY_DELETED: Final = "company.deleted"
CONNECTION_CREATED: Final = "connection.created"
CONNECTION_CONNECTED: Final = "connection.connected"
CONNECTION_DISCONNECTED: Final = "connection.disconnected"
CONNECTION_RECONNECTED: Final = "connection.reconnected"
CONNECTION_DELETED: Final = "connection.deleted"
COMPANY_EVENTS: Final = (COMPANY_CREATED, COMPANY_DELETED)
CONNECTION_EVENTS: Final = (
    CONNECTION_CREATED,
    CONNECTION_CONNECTED,
    CONNECTION_DISCONNECTED,
    CONNECTION_RECONNECTED,
    CONNECTION_DELETED,
)
RATE_LIMIT_REACHED: Final = "client.rateLimit.reached"
RATE_LIMIT_RESET: Final = "client.rateLimit.reset"
CLIENT_EVENTS: Final = (RATE_LIMIT_REACHED, RATE_LIMIT_RESET)
SENT_EVENTS: Final = (*COMPANY_EVENTS, *CONNECTION_EVENTS, *CLIENT_EVENTS)

# Delivery states
PENDING: Final = "pending"
SENDING: Final = "sending"  # claimed by a dispatcher until its lease (`due`) runs out
DELIVERED: Final = "delivered"
FAILED: Final = "failed"  # retries exhausted, or refused (a non-loopback URL)
DROPPED: Final = "dropped"  # lost on purpose (`--webhook-drop-rate`)

_TABLES: Final = """
CREATE TABLE IF NOT EXISTS webhook_consumers (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    url          TEXT NOT NULL,
    event_types  TEXT NOT NULL DEFAULT '[]',
    company_tags TEXT,
    disabled     INTEGER NOT NULL DEFAULT 0,
    secret       TEXT NOT NULL,
    created      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    generated   TEXT NOT NULL,
    company     TEXT,
    connection  TEXT,
    errors      TEXT,
    payload     TEXT,
    not_before  REAL,
    fanned_out  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS webhook_outbox_waiting ON webhook_outbox(seq) WHERE fanned_out = 0;
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_seq   INTEGER NOT NULL REFERENCES webhook_outbox(seq) ON DELETE CASCADE,
    consumer_id TEXT NOT NULL REFERENCES webhook_consumers(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    due         REAL NOT NULL,
    last_status INTEGER,
    last_error  TEXT
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries(state, due);
CREATE INDEX IF NOT EXISTS webhook_deliveries_open
    ON webhook_deliveries(consumer_id, due, seq) WHERE state IN ('pending', 'sending');
"""

# A random (version 4 shaped) UUID and Codat's UTC timestamp, computed inside a trigger.
_NEW_UUID: Final = (
    "(SELECT lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-'"
    " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-' || substr(h, 21))"
    " FROM (SELECT hex(randomblob(16)) AS h))"
)
_NOW: Final = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
ANY_CONSUMER: Final = "EXISTS (SELECT 1 FROM webhook_consumers WHERE disabled = 0)"


def _company_of(company_id: str) -> str:
    return (
        "(SELECT json_array(id, name, description, redirect, created, tags)"
        f" FROM companies WHERE id = {company_id})"
    )


def _connection(row: str) -> str:
    columns = (
        "company_id, id, integration_id, integration_key, source_id, source_type,"
        " platform_name, link_url, status, created"
    )
    return "json_array(" + ", ".join(f"{row}.{c.strip()}" for c in columns.split(",")) + ")"


def _errors_of(connection_id: str) -> str:
    return (
        "(SELECT json_group_array(json_array(connection_id, status_code, status_text,"
        " error_message, errored_on, status, resolved_on)) FROM (SELECT * FROM connection_errors"
        f" WHERE connection_id = {connection_id} ORDER BY seq))"
    )


def _record(event_type: str, company: str, connection: str, errors: str) -> str:
    return (
        "INSERT INTO webhook_outbox (id, event_type, generated, company, connection, errors)"
        f" VALUES ({_NEW_UUID}, {event_type}, {_NOW}, {company}, {connection}, {errors});"
    )


_STATUS_EVENT: Final = (
    "CASE WHEN NEW.status = 'Linked' AND OLD.status = 'PendingAuth'"
    f" THEN '{CONNECTION_CONNECTED}'"
    " WHEN NEW.status = 'Linked' AND OLD.status IN ('Unlinked', 'Deauthorized')"
    f" THEN '{CONNECTION_RECONNECTED}'"
    " WHEN OLD.status = 'Linked' AND NEW.status IN ('Unlinked', 'Deauthorized')"
    f" THEN '{CONNECTION_DISCONNECTED}' END"
)

_TRIGGERS: Final = (
    "CREATE TRIGGER IF NOT EXISTS webhook_company_created AFTER INSERT ON companies"
    f" WHEN {ANY_CONSUMER} BEGIN "
    + _record(f"'{COMPANY_CREATED}'", _company_of("NEW.id"), "NULL", "NULL")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS webhook_company_deleted AFTER DELETE ON companies"
    f" WHEN {ANY_CONSUMER} BEGIN "
    + _record(
        f"'{COMPANY_DELETED}'",
        "json_array(OLD.id, OLD.name, OLD.description, OLD.redirect, OLD.created, OLD.tags)",
        "NULL",
        "NULL",
    )
    + " END",
    "CREATE TRIGGER IF NOT EXISTS webhook_connection_created AFTER INSERT ON connections"
    f" WHEN {ANY_CONSUMER} BEGIN "
    + _record(
        f"'{CONNECTION_CREATED}'",
        _company_of("NEW.company_id"),
        _connection("NEW"),
        _errors_of("NEW.id"),
    )
    + " END",
    "CREATE TRIGGER IF NOT EXISTS webhook_connection_status AFTER UPDATE OF status ON connections"
    f" WHEN {ANY_CONSUMER} AND ({_STATUS_EVENT}) IS NOT NULL BEGIN "
    + _record(
        _STATUS_EVENT, _company_of("NEW.company_id"), _connection("NEW"), _errors_of("NEW.id")
    )
    + " END",
    "CREATE TRIGGER IF NOT EXISTS webhook_connection_deleted AFTER DELETE ON connections"
    f" WHEN {ANY_CONSUMER} AND EXISTS (SELECT 1 FROM companies WHERE id = OLD.company_id)"
    " BEGIN "
    + _record(
        f"'{CONNECTION_DELETED}'",
        _company_of("OLD.company_id"),
        _connection("OLD"),
        _errors_of("OLD.id"),
    )
    + " END",
)

# Run one by one (a trigger's body holds semicolons): tables first, then the triggers.
STATEMENTS: Final = (
    *(s.strip() for s in _TABLES.split(";") if s.strip()),
    *_TRIGGERS,
)
