"""The message ids of deliveries accepted lately, in a small SQLite file beside the watch's state,
so a redelivery or a replay is a duplicate even after a restart (or on another replica sharing
the file).

A delivery's signature covers its id and its timestamp, and a timestamp is accepted within 5
minutes either side of now; an id is kept for 15 minutes, longer than any signature carrying it
can be accepted. (Refusing every delivery older than the process would be simpler, but would
lose a legitimate delivery signed just before a restart and delivered just after.)
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

SEEN_SECONDS = 15 * 60.0
FILE_NAME = "watch-deliveries.sqlite"


class SeenError(Exception):
    """The file cannot be opened: the message says which and why."""


class SeenIds:
    def __init__(
        self,
        path: Path,
        *,
        ttl: float = SEEN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._ttl = ttl
        self._clock = clock
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(path, timeout=5, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # survives a crash; one write a delivery
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at REAL NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS seen_at ON seen (at)")
        except (OSError, sqlite3.Error) as exc:
            raise SeenError(
                f"cannot open {path} (the ids of deliveries already received): {exc}; "
                "choose a writable --state-dir"
            ) from None

    def first_time(self, message_id: str) -> bool:
        """Record `message_id`; False when it was already recorded within the window."""
        now = self._clock()
        self._db.execute("DELETE FROM seen WHERE at < ?", (now - self._ttl,))
        added = self._db.execute(
            "INSERT OR IGNORE INTO seen (id, at) VALUES (?, ?)", (message_id, now)
        )
        return added.rowcount == 1

    def __contains__(self, message_id: object) -> bool:
        now = self._clock()
        row = self._db.execute(
            "SELECT 1 FROM seen WHERE id = ? AND at >= ?", (message_id, now - self._ttl)
        ).fetchone()
        return row is not None

    def close(self) -> None:
        self._db.close()
