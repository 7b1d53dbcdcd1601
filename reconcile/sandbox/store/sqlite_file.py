"""How every part of the sandbox opens its SQLite file: the store, the requests' units of work
and the layers' own tables all connect here, with the same settings.

- **WAL**: readers never wait for the writer, and several processes share the file.
- **Autocommit** (`isolation_level=None`): transactions are begun and ended explicitly.
- **Busy timeout**: a writer in another process is waited for, not failed on.
- **Foreign keys** on: deleting a company deletes what hangs off it.
- **`synchronous = OFF`**, and what a commit therefore promises. A commit has handed its WAL
  frames to the operating system before it returns, and a request commits before the last byte
  of its answer leaves (`store/unit.py`): a sandbox process that is killed, at any moment, never
  loses a write it acknowledged, since the next process to open the file reads the WAL back
  (`tests/sandbox/test_durability.py` kills a served sandbox with SIGKILL and checks). What OFF
  gives up is the machine itself crashing or losing power: then the last writes may be lost or
  the file damaged, which a test double's state (rebuilt by `sandbox seed`) can afford. Under
  NORMAL, every WAL checkpoint and every restart of the WAL made the committing request fsync
  (about 4 ms each here, two or three a checkpoint, every few hundred requests), and every
  request in flight waited behind it (benchmarks/RESULTS.md, issue 27).
"""

from __future__ import annotations

import os
import sqlite3
from typing import Final

BUSY_TIMEOUT_MS: Final = 30_000


def connect(
    db_path: str | os.PathLike[str], *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> sqlite3.Connection:
    """A connection to the sandbox's file with the settings above (usable from any thread)."""
    conn = sqlite3.connect(
        os.fspath(db_path),
        timeout=busy_timeout_ms / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn
