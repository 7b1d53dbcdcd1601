"""One writer at a time per process and SQLite file.

The store (in the thread pool) and the quota and idempotency layers (on the event loop) write to
the same file through their own connections. Left to SQLite, a writer that finds the write lock
taken sleeps in its busy handler (1, 2, 5, 10... ms) and retries: the requests queue behind
sleeps, not behind work. Every writer in this process takes this lock around its write
transaction instead, so the next one starts as soon as the last one commits. Other processes
sharing the file still meet SQLite's own lock (and `busy_timeout`), as before.

A re-entrant lock: a thread already writing may open a nested write (it joins the same
transaction in the store, or waits for SQLite as it would without this lock).

`process_id()` is what the per-process connections check to notice a fork: `os.getpid()` is a
system call each time, and every request asked it several times.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCKS: dict[str, threading.RLock] = {}
_GUARD = threading.Lock()
_PID = os.getpid()


def process_id() -> int:
    """This process's id (kept current across forks), without a system call."""
    return _PID


def writer_lock(db_path: str | os.PathLike[str]) -> threading.RLock:
    """The process's write lock for the file at `db_path` (spelled as given)."""
    key = os.fspath(db_path)
    lock = _LOCKS.get(key)
    if lock is None:
        with _GUARD:
            lock = _LOCKS.setdefault(key, threading.RLock())
    return lock


@contextmanager
def one_writer(db_path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the process's write lock for `db_path` for the duration of the block."""
    with writer_lock(db_path):
        yield


def _after_fork_in_child() -> None:
    """A forked child starts with fresh locks (one held by a parent's thread would never free)
    and its own process id."""
    global _LOCKS, _PID
    _LOCKS = {}
    _PID = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)
