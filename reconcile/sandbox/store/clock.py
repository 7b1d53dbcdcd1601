"""The sandbox's clock: the real time plus an offset kept in its state file.

`reconcile sandbox clock --advance-days 2` moves a sandbox's time forward, served or not: the
served process reads the offset again at most REREAD_SECONDS after its last read (a read costs
a SQLite query; a busy sandbox ticks several times a request), so within that its data ages
(`dataStatus`), its pull operations are requested, its daily quota rolls over and its `Date`
header says the new time, as Codat's would after two days. Nothing moves it back: an offset only
grows.

A store or app given a clock of its own (tests: `Store(clock=...)`) never reads the file's.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from reconcile.sandbox.store.sqlite_file import connect

REREAD_SECONDS: Final = 0.05
STATEMENT: Final = (
    "CREATE TABLE IF NOT EXISTS sandbox_clock ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), offset_seconds REAL NOT NULL)"
)


class StoredClock:
    """Seconds since the epoch: `now()` plus the offset the state file holds (0 without one)."""

    def __init__(
        self, db_path: str | os.PathLike[str], now: Callable[[], float] = time.time
    ) -> None:
        self.db_path = Path(db_path)
        self.now = now
        self._local = threading.local()
        self._read_at = -REREAD_SECONDS  # time.monotonic() of the last read
        self._offset = 0.0

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = connect(self.db_path)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def offset(self) -> float:
        moment = time.monotonic()
        if moment - self._read_at < REREAD_SECONDS:
            return self._offset
        # Only reads: a tick may come inside a request's write transaction (on another
        # connection), so it never writes. The store makes the table; without one, no offset.
        try:
            row = (
                self._conn()
                .execute("SELECT offset_seconds FROM sandbox_clock WHERE id = 1")
                .fetchone()
            )
        except sqlite3.OperationalError:  # no such table (yet): the machine's time
            row = None
        self._offset, self._read_at = (float(row[0]) if row else 0.0), moment
        return self._offset

    def __call__(self) -> float:
        return self.now() + self.offset()


def advance(db_path: str | os.PathLike[str], seconds: float) -> float:
    """Move the sandbox's clock forward by `seconds`; its time after, in seconds since the epoch."""
    if seconds < 0:
        raise ValueError("the sandbox's clock only moves forward")
    conn = connect(Path(db_path))
    try:
        conn.execute(STATEMENT)
        conn.execute(
            "INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, ?) ON CONFLICT (id)"
            " DO UPDATE SET offset_seconds = offset_seconds + excluded.offset_seconds",
            (seconds,),
        )
        (offset,) = conn.execute("SELECT offset_seconds FROM sandbox_clock").fetchone()
    finally:
        conn.close()
    return time.time() + float(offset)
