"""`Idempotency-Key` on POST and PATCH, as Codat documents it.

- The first response for a key (status, headers, body; 4xx and 5xx included) is replayed for 90
  minutes to every later request with the same key and the same request.
- A 429 is not stored: it releases the key, so the retry runs for real.
- The same key with a different request (method, path, query or body) answers 422.
- A key whose first request is still running answers 409.

Keys are scoped per credential (a hash of the `Authorization` header; the header itself is never
stored). State lives in this module's own table in the sandbox's SQLite file, through its own
connection, so several server processes sharing the file share the keys: a key is claimed with an
atomic INSERT (state `running`) before the app is called, and the response is stored after.

A `running` claim whose process died is taken over after `running_timeout` seconds. Expired keys
are deleted when reused, and in bulk every `PURGE_EVERY` claims of a process.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconcile.sandbox.errors import error_response
from reconcile.sandbox.layers.common import (
    Clock,
    LayerDB,
    context_of,
    credential_scope,
    header,
    is_api_request,
    read_body,
    replay_receive,
)
from reconcile.sandbox.store.unit import current_unit

IDEMPOTENCY_TTL_SECONDS = 90 * 60
RUNNING_TIMEOUT_SECONDS = 300.0
PURGE_EVERY = 1000
METHODS = frozenset({"POST", "PATCH"})
# Headers a replay does not repeat: the server sets them per response.
_NOT_REPLAYED = frozenset({b"date", b"server", b"connection", b"transfer-encoding"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_idempotency (
    credential  TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'done')),
    created_at  REAL NOT NULL,
    status      INTEGER,
    headers     TEXT,
    body        BLOB,
    PRIMARY KEY (credential, key)
) WITHOUT ROWID
"""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True)
class Claimed:
    """The key was free: this request runs and its response is stored."""


@dataclass(frozen=True)
class Conflict:
    """The key belongs to a different request (422)."""

    label: ClassVar[str] = "conflict"
    status: ClassVar[int] = 422
    message: ClassVar[str] = "The Idempotency-Key has already been used with a different request."


@dataclass(frozen=True)
class InFlight:
    """The key's first request is still running (409)."""

    label: ClassVar[str] = "in_flight"
    status: ClassVar[int] = 409
    message: ClassVar[str] = (
        "A request with this Idempotency-Key is still being processed; retry later."
    )


Decision = Claimed | Conflict | InFlight | StoredResponse


def fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (
        scope["method"].encode(),
        scope["path"].encode("utf-8"),
        bytes(scope.get("query_string", b"")),
    ):
        digest.update(part)
        digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyStore:
    """The key table, shared by every process using the same SQLite file."""

    def __init__(
        self,
        db_path: Path,
        *,
        ttl: float = IDEMPOTENCY_TTL_SECONDS,
        running_timeout: float = RUNNING_TIMEOUT_SECONDS,
    ) -> None:
        self.db_path = db_path
        self.ttl = ttl
        self.running_timeout = running_timeout
        self._db = LayerDB(db_path, _SCHEMA)
        self._claims = 0

    @property
    def conn(self) -> sqlite3.Connection:
        return self._db.conn

    def purge(self, now: float) -> int:
        """Delete every expired key (and abandoned running claim); returns how many."""
        return self._db.write(
            "DELETE FROM sandbox_idempotency WHERE created_at <= ?"
            " OR (state = 'running' AND created_at <= ?)",
            (now - self.ttl, now - self.running_timeout),
        )[1]

    def claim(self, credential: str, key: str, fp: str, now: float) -> Decision:
        self._claims += 1
        if self._claims % PURGE_EVERY == 0:
            self.purge(now)
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT fingerprint, state, created_at, status, headers, body"
                " FROM sandbox_idempotency WHERE credential = ? AND key = ?",
                (credential, key),
            ).fetchone()
            if row is not None:
                stale_running = row[1] == "running" and row[2] <= now - self.running_timeout
                if row[2] <= now - self.ttl or stale_running:
                    conn.execute(
                        "DELETE FROM sandbox_idempotency WHERE credential = ? AND key = ?",
                        (credential, key),
                    )
                    row = None
            decision: Decision
            if row is None:
                conn.execute(
                    "INSERT INTO sandbox_idempotency (credential, key, fingerprint, state,"
                    " created_at) VALUES (?, ?, ?, 'running', ?)",
                    (credential, key, fp, now),
                )
                decision = Claimed()
            elif row[0] != fp:
                decision = Conflict()
            elif row[1] == "running":
                decision = InFlight()
            else:
                headers = [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(row[4])
                ]
                decision = StoredResponse(int(row[3]), headers, bytes(row[5]))
        return decision

    def store(self, credential: str, key: str, response: StoredResponse) -> None:
        headers = json.dumps(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]
        )
        self._db.write(
            "UPDATE sandbox_idempotency SET state = 'done', status = ?, headers = ?, body = ?"
            " WHERE credential = ? AND key = ? AND state = 'running'",
            (response.status, headers, response.body, credential, key),
        )

    def release(self, credential: str, key: str) -> None:
        self._db.write(
            "DELETE FROM sandbox_idempotency"
            " WHERE credential = ? AND key = ? AND state = 'running'",
            (credential, key),
        )


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, keys: IdempotencyStore, clock: Clock = time.time) -> None:
        self.app = app
        self.clock = clock
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, "idempotency-key") if is_api_request(scope) else None
        if not key or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client is gone before its request was whole: nothing to run or store
        credential = credential_scope(scope)
        unit = current_unit()
        if unit is not None:
            await unit.begin()
        # In the request's transaction: a concurrent retry waits for its answer and replays it,
        # unless the request waits with it open (latency, an app outside the unit), which
        # commits the claim first, so that the retry answers 409 meanwhile (store/unit.py).
        decision = self.keys.claim(credential, key, fingerprint(scope, body), self.clock())
        ctx = context_of(scope)
        if isinstance(decision, StoredResponse):
            if ctx is not None:
                ctx.idempotency = "replayed"
            await send(
                {
                    "type": "http.response.start",
                    "status": decision.status,
                    "headers": decision.headers,
                }
            )
            await send({"type": "http.response.body", "body": decision.body})
            return
        if isinstance(decision, Conflict | InFlight):
            if ctx is not None:
                ctx.idempotency = decision.label
            await error_response(decision.status, decision.message)(scope, receive, send)
            return
        await self._run_and_store(scope, replay_receive(body, receive), send, credential, key)
        if ctx is not None and ctx.idempotency is None:
            ctx.idempotency = "stored"

    async def _run_and_store(
        self, scope: Scope, receive: Receive, send: Send, credential: str, key: str
    ) -> None:
        status: int | None = None
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        complete = False
        downstream_error: Exception | None = None

        async def capture(message: Message) -> None:
            nonlocal status, headers, complete, downstream_error
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                complete = not message.get("more_body", False)
                if complete:
                    # Stored before the client has the whole answer, so a retry it sends at once
                    # is replayed (not refused as in flight), and the request log says "stored";
                    # in the request's transaction, with the writes it answers for.
                    await finish()
            if downstream_error is None:
                # The client going away must not stop the app nor the recording of its answer.
                try:
                    await send(message)
                except Exception as exc:
                    downstream_error = exc

        finished = False

        async def finish() -> None:
            nonlocal finished
            if finished:
                return
            finished = True
            unit = current_unit()
            if unit is not None:
                await unit.begin()
            ctx = context_of(scope)
            if ctx is not None and ctx.idempotency is None:
                ctx.idempotency = "stored"
            if status is None or not complete or status == 429:
                self.keys.release(credential, key)
            else:
                kept = [(k, v) for k, v in headers if k.lower() not in _NOT_REPLAYED]
                self.keys.store(credential, key, StoredResponse(status, kept, b"".join(chunks)))

        unit = current_unit()
        claimed = unit.mark() if unit is not None else None  # the count and the claim so far
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            if unit is not None:
                unit.undo_to(claimed)  # what the failed request wrote, not its count nor claim
            self.keys.release(credential, key)  # a no-op once stored (it frees `running` only)
            if unit is not None:
                unit.commit()  # the count stays and the key is free, whatever happens outside
            raise
        await finish()
        if downstream_error is not None:
            raise downstream_error
