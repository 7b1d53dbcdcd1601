"""One SQLite transaction per request: the request's unit of work.

The outermost layer that touches SQLite (`layers.unit.UnitOfWorkMiddleware`) opens a `Unit` for
each request and makes it current (a context variable, so every layer and the store see it
without passing it along). Whoever writes first begins the transaction (`await unit.begin()`:
`BEGIN IMMEDIATE` on the unit's connection); the quota counter, the idempotency record, the
store's writes (and its triggers' webhook outbox rows) and the Link page tokens all join it; the
store's own `transaction()` becomes a savepoint inside it. The middleware commits once, before
the answer's last byte leaves, so a client that has its answer finds everything written.

A request commits early (`checkpoint`) only where it is about to wait with its transaction open:
at the start of an injected latency (the slow request must not hold the write lock while it
"processes"), and before an app that does not join the unit. What it wrote so far, an
idempotency key's claim among it, is then visible while it runs: a concurrent retry with the key,
in this process or another, answers 409. A request that never waits holds the write lock from its
first write to its answer, so a concurrent retry waits for it and replays its answer; a keyed
POST commits once, and a process killed in between leaves no claim behind.

Units of one process take turns: an asyncio lock per event loop (a unit that awaits while its
transaction is open makes the next one wait, never share it), then the process's write lock
(`writer.py`, shared with the store's other writers such as the webhook dispatcher's thread).
A unit's transaction is begun and committed on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import weakref
from contextvars import ContextVar, Token
from pathlib import Path

from reconcile.sandbox.store.sqlite_file import connect
from reconcile.sandbox.store.writer import process_id, writer_lock

_CURRENT: ContextVar[Unit | None] = ContextVar("codat_sandbox_unit", default=None)
_LOOP_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def current_unit() -> Unit | None:
    """The unit of the request being handled, if any."""
    return _CURRENT.get()


def _loop_lock(key: str) -> asyncio.Lock:
    locks = _LOOP_LOCKS.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = asyncio.Lock()
    return lock


class Connections:
    """The units' connections to one file: one per thread and process (the units of a thread
    take turns on it). Owned by whoever makes the units (the layer, one per app), so they close
    with it."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.key = os.fspath(db_path)
        self._local = threading.local()
        self._loop_lock: tuple[weakref.ref[asyncio.AbstractEventLoop], asyncio.Lock] | None = None

    def loop_lock(self) -> asyncio.Lock:
        """The running loop's lock on this file (shared by every unit on it in that loop), kept
        for the loop that last asked."""
        loop = asyncio.get_running_loop()
        cached = self._loop_lock
        if cached is None or cached[0]() is not loop:
            cached = self._loop_lock = (weakref.ref(loop), _loop_lock(self.key))
        return cached[1]

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != process_id():
            conn = self._local.conn = connect(self.db_path)
            self._local.pid = process_id()
        return conn


class Unit:
    """One request's SQLite transaction on the sandbox's file."""

    def __init__(
        self, db_path: Path, *, writes: bool = True, connections: Connections | None = None
    ) -> None:
        self.db_path = db_path
        self.writes = writes  # the request may change the store (not GET or HEAD)
        self.connections = connections or Connections(db_path)
        self.key = os.fspath(db_path)
        self._lock: asyncio.Lock | None = None
        self._writer: threading.RLock | None = None
        self._conn: sqlite3.Connection | None = None
        self._savepoints = 0

    @property
    def open(self) -> bool:
        return self._conn is not None

    def covers(self, db_path: str | os.PathLike[str]) -> bool:
        """True if this unit's transaction is open on the file at `db_path` (spelled as given:
        callers keep `os.fspath` of their path, compared without converting it again)."""
        return self._conn is not None and (db_path == self.key or os.fspath(db_path) == self.key)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work has not begun")
        return self._conn

    async def begin(self) -> sqlite3.Connection:
        """The open transaction's connection, beginning it (`BEGIN IMMEDIATE`) if need be."""
        if self._conn is not None:
            return self._conn
        lock = self.connections.loop_lock()
        await lock.acquire()
        writer = writer_lock(self.key)
        writer.acquire()
        try:
            conn = self.connections.get()
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            lock.release()
            raise
        self._lock, self._writer, self._conn = lock, writer, conn
        return conn

    def savepoint(self) -> str:
        """A nested savepoint's name (for a store transaction that joins this one)."""
        self._savepoints += 1
        name = f"unit_sp{self._savepoints}"
        self.conn.execute(f"SAVEPOINT {name}")
        return name

    def mark(self) -> str | None:
        """A point to undo back to (`undo_to`): a savepoint if the transaction is open."""
        return self.savepoint() if self._conn is not None else None

    def undo_to(self, mark: str | None) -> None:
        """Undo what was written since `mark` (all of the open transaction if None)."""
        if mark is None or self._conn is None:
            self.rollback()
            return
        try:
            self._conn.execute(f"ROLLBACK TO {mark}")
        except sqlite3.OperationalError:  # the mark's transaction has ended: undo this one
            self.rollback()

    def commit(self) -> None:
        """Commit the open transaction, if any (the unit may begin again later)."""
        self._end("COMMIT")

    checkpoint = commit

    def rollback(self) -> None:
        """Undo the open transaction, if any."""
        self._end("ROLLBACK")

    def _end(self, statement: str) -> None:
        conn, lock, writer = self._conn, self._lock, self._writer
        if conn is None or lock is None or writer is None:
            return
        self._conn = self._lock = self._writer = None
        try:
            conn.execute(statement)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            writer.release()
            lock.release()


def enter(unit: Unit) -> Token[Unit | None]:
    return _CURRENT.set(unit)


def leave(token: Token[Unit | None]) -> None:
    _CURRENT.reset(token)
