"""What the sandbox's middleware layers share: the per-request context, header access, the
credential scope, the layers' own SQLite connections and body buffering.

The layers (`requestlog`, `guards`, `faults`, `ratelimit`, `idempotency`) import this module and
`errors`; `middleware.wrap` imports the layers. Nothing here imports a layer, so the imports run
one way.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from reconcile.sandbox.store.sqlite_file import connect
from reconcile.sandbox.store.unit import current_unit
from reconcile.sandbox.store.writer import one_writer, process_id

Clock = Callable[[], float]

CONTEXT_KEY = "codat_sandbox.context"
LINK_PREFIX = "/link"
LAYER_BUSY_TIMEOUT_MS = 10_000


@dataclass
class RequestContext:
    """What the layers decided about one request; created by the request log (outermost)."""

    raw_send: Send
    fault: str | None = None  # "drop", "error", "throttle", "lost"
    outcome: str | None = None  # "dropped" or "lost" when no response reached the client
    idempotency: str | None = None  # "stored", "replayed", "conflict", "in_flight"
    # What several layers read, worked out once a request (`header`, `credential_scope`).
    headers: dict[bytes, str] | None = field(default=None, repr=False)
    headers_of: object = field(default=None, repr=False)  # the scope's list they were read from
    credential: tuple[str, str] | None = field(default=None, repr=False)  # (header, its hash)


def context_of(scope: Scope) -> RequestContext | None:
    ctx = scope.get(CONTEXT_KEY)
    return ctx if isinstance(ctx, RequestContext) else None


def _first_values(raw: Iterable[tuple[bytes, bytes]]) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    for key, value in raw:
        found.setdefault(bytes(key).lower(), bytes(value).decode("latin-1"))
    return found


def header(scope: Scope, name: str) -> str | None:
    """The first value of a request header (name in lower case), decoded as latin-1.

    Within a request (its context made by the request log) the headers are read once and kept.
    """
    wanted = name.lower().encode("latin-1")
    raw = scope.get("headers", ())
    ctx = scope.get(CONTEXT_KEY)
    if isinstance(ctx, RequestContext):
        if ctx.headers is None or ctx.headers_of is not raw:
            ctx.headers, ctx.headers_of = _first_values(raw), raw
        return ctx.headers.get(wanted)
    for key, value in raw:
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def credential_scope(scope: Scope) -> str:
    """A stable, non-reversible id of the caller's credential (the Authorization header).

    Idempotency keys and the daily quota are scoped by it; the raw header is never stored.
    """
    auth = header(scope, "authorization") or ""
    ctx = scope.get(CONTEXT_KEY)
    if isinstance(ctx, RequestContext) and ctx.credential is not None and ctx.credential[0] == auth:
        return ctx.credential[1]
    hashed = hashlib.sha256(auth.encode("latin-1")).hexdigest()
    if isinstance(ctx, RequestContext):
        ctx.credential = (auth, hashed)
    return hashed


def is_api_request(scope: Scope) -> bool:
    """Codat API paths (faults and rate limits apply); not the customer's Link pages."""
    if scope.get("type") != "http":
        return False
    path: str = scope.get("path", "")
    return not (path == LINK_PREFIX or path.startswith(LINK_PREFIX + "/"))


class LayerDB:
    """A layer's own tables in the sandbox file: one connection per process (a forked child
    opens its own), the layer's schema created when the layer is built (at app start, outside
    any request: creating a table while a request's transaction holds the write lock would
    wait for it)."""

    def __init__(self, db_path: Path, schema: str) -> None:
        self.db_path = db_path
        self._key = os.fspath(db_path)
        self._schema = schema
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._schema_made = False
        self.conn  # noqa: B018 (the schema now, never while a request's transaction is open)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != process_id():
            # Autocommit: each statement commits by itself unless in `BEGIN IMMEDIATE`.
            self._conn = connect(self.db_path, busy_timeout_ms=LAYER_BUSY_TIMEOUT_MS)
            if not self._schema_made:
                with one_writer(self.db_path):
                    self._conn.executescript(self._schema)
                self._schema_made = True
            self._pid = process_id()
        return self._conn

    def write(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[Any], int]:
        """One statement that writes: in the request's open transaction if there is one
        (`store/unit.py`), else as its own transaction under the process's write lock (so it
        neither waits in SQLite's busy handler nor makes the store wait in it). Returns the rows
        it returns (`RETURNING`) and how many rows it changed."""
        conn = self.conn
        unit = current_unit()
        if unit is not None and unit.covers(self._key):
            cursor = unit.conn.execute(sql, params)
            return cursor.fetchall(), cursor.rowcount
        with one_writer(self.db_path):
            cursor = conn.execute(sql, params)
            return cursor.fetchall(), cursor.rowcount

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT` (or `ROLLBACK`) under the process's write lock; a
        savepoint in the request's open transaction if there is one."""
        conn = self.conn
        unit = current_unit()
        if unit is not None and unit.covers(self._key):
            name = unit.savepoint()
            try:
                yield unit.conn
            except BaseException:
                unit.conn.execute(f"ROLLBACK TO {name}")
                unit.conn.execute(f"RELEASE {name}")
                raise
            unit.conn.execute(f"RELEASE {name}")
            return
        with one_writer(self.db_path):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


class BodyTooLarge(Exception):
    """A request body grew past the cap while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


async def read_body(receive: Receive, limit: int | None = None) -> bytes | None:
    """The whole request body; None if the client went away before sending all of it.

    With a `limit`, the bytes are counted as they arrive and `BodyTooLarge` is raised as soon as
    they pass it: no more than `limit` bytes (plus one chunk) are ever held.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if limit is not None and size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return None


def replay_receive(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the buffered body to the app once, then defers to the server."""
    sent = False

    async def _receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return _receive
