"""What the notifier remembers, in a small SQLite file beside the watch (its --state-dir): each
customer's last state and when the partner's app was last told, the problems already reported,
and the outbox of notifications still to send (so a restart neither repeats nor loses one)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "notifications.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    uid TEXT PRIMARY KEY, state TEXT NOT NULL, told_at REAL
);
CREATE TABLE IF NOT EXISTS problems (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, uid TEXT, first_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS withheld (company_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL
);
"""


class StoreError(Exception):
    """The state file cannot be used: the message names it."""


@dataclass(frozen=True)
class Known:
    state: str
    told_at: float | None  # when the partner's app was last told (None: never)


@dataclass(frozen=True)
class Pending:
    id: int
    channel: str
    message_id: str
    body: dict[str, Any]
    attempts: int


class NotifyStore:
    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot use {path} for the notifications' state: {exc}") from None
        path.chmod(0o600)  # it names customers and holds queued messages

    def close(self) -> None:
        self.conn.close()

    def customers(self) -> dict[str, Known]:
        rows = self.conn.execute("SELECT uid, state, told_at FROM customers").fetchall()
        return {uid: Known(state, told_at) for uid, state, told_at in rows}

    def set_customer(self, uid: str, state: str, told_at: float | None) -> None:
        self.conn.execute(
            "INSERT INTO customers (uid, state, told_at) VALUES (?, ?, ?) ON CONFLICT (uid) "
            "DO UPDATE SET state = excluded.state, told_at = excluded.told_at",
            (uid, state, told_at),
        )

    def problems(self) -> dict[str, str | None]:
        return dict(self.conn.execute("SELECT key, uid FROM problems").fetchall())

    def add_problem(self, key: str, kind: str, uid: str | None, now: float) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO problems (key, kind, uid, first_seen) VALUES (?, ?, ?, ?)",
            (key, kind, uid, now),
        )

    def drop_problem(self, key: str) -> None:
        self.conn.execute("DELETE FROM problems WHERE key = ?", (key,))

    def withheld(self) -> frozenset[str]:
        """The ids of companies awaiting (re-)authorization: never shown to the team."""
        return frozenset(r[0] for r in self.conn.execute("SELECT company_id FROM withheld"))

    def withhold(self, company_ids: frozenset[str], *, replace: bool) -> None:
        if replace:
            self.conn.execute("DELETE FROM withheld")
        self.conn.executemany(
            "INSERT OR IGNORE INTO withheld (company_id) VALUES (?)", [(c,) for c in company_ids]
        )

    def enqueue(self, channel: str, message_id: str, body: dict[str, Any], now: float) -> None:
        self.conn.execute(
            "INSERT INTO outbox (channel, message_id, body, next_at) VALUES (?, ?, ?, ?)",
            (channel, message_id, json.dumps(body), now),
        )

    def due(self, now: float) -> list[Pending]:
        rows = self.conn.execute(
            "SELECT id, channel, message_id, body, attempts FROM outbox WHERE next_at <= ? "
            "ORDER BY id",
            (now,),
        ).fetchall()
        return [Pending(i, c, m, json.loads(b), a) for i, c, m, b, a in rows]

    def next_due(self) -> float | None:
        row = self.conn.execute("SELECT MIN(next_at) FROM outbox").fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def sent(self, ids: list[int]) -> None:
        self.conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    def retry(self, ids: list[int], next_at: float) -> None:
        self.conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?",
            [(next_at, i) for i in ids],
        )

    def postpone(self, ids: list[int], next_at: float) -> None:
        """Try again at `next_at`, without counting an attempt (Codat's quota, not the channel)."""
        self.conn.executemany(
            "UPDATE outbox SET next_at = ? WHERE id = ?", [(next_at, i) for i in ids]
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One commit for many writes (all or none)."""
        self.conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
