"""The sandbox's cross-cutting layers around the Codat routes.

`wrap(app, options)` stacks pure ASGI middleware (no Starlette `BaseHTTPMiddleware`, so they run the
same under uvicorn and in process through `httpx.ASGITransport`). Outermost first:

1. **request log** (`requestlog.py`): it must see every request, including the ones a later layer
   refuses, drops or loses, and time all of them; it also creates the per-request context
   (`RequestContext`) the inner layers write their decisions into (fault, replay, outcome).
2. **faults** (`faults.py`): drops, injected 5xx and 429 simulate the network and Codat's
   front door, so they happen *before* anything else: a dropped or throttled request never counts
   against the quota, never claims an idempotency key and never touches the store; exactly what a
   client sees from a flaky network (the injected 5xx and 429 still carry the current
   `X-Rate-Limit-*` values, read without counting). The "lost response" fault is also decided
   here (so that one seeded random stream decides all faults in request order) but it wraps the
   *whole* inner stack:
   rate limit, idempotency and the core app run to completion and commit, the idempotency layer
   records the response, and only then is the connection closed without an answer. A retry with
   the same `Idempotency-Key` therefore replays the lost response, as Codat would.
3. **rate limits** (`ratelimit.py`): counted before idempotency because Codat counts every request,
   replays included, and adds `X-Rate-Limit-*` to every response, replays and errors included; a
   429 from here never reaches the idempotency layer, so it neither claims nor stores a key.
4. **idempotency** (`idempotency.py`): right around the core app, so that what it stores and
   replays is exactly the app's answer (with its 4xx/5xx) and nothing the outer layers add.
5. **latency** (`faults.LatencyMiddleware`): innermost, it stands for Codat's processing time, so a
   slow request is in flight for every layer above: it holds its company's concurrency slot (the
   cap can be hit) and its idempotency key (a concurrent retry gets 409), as on the real API.

Shared helpers for the layers live here; the layers import them, and `wrap` imports the layers.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconcile.sandbox.options import SandboxOptions

Clock = Callable[[], float]

CONTEXT_KEY = "codat_sandbox.context"
LINK_PREFIX = "/link"


@dataclass
class RequestContext:
    """What the layers decided about one request; created by the request log (outermost)."""

    raw_send: Send
    fault: str | None = None  # "drop", "error", "throttle", "lost"
    outcome: str | None = None  # "dropped" or "lost" when no response reached the client
    idempotency: str | None = None  # "stored", "replayed", "conflict", "in_flight"


def context_of(scope: Scope) -> RequestContext | None:
    ctx = scope.get(CONTEXT_KEY)
    return ctx if isinstance(ctx, RequestContext) else None


def header(scope: Scope, name: str) -> str | None:
    """The first value of a request header (name in lower case), decoded as latin-1."""
    wanted = name.lower().encode("latin-1")
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def credential_scope(scope: Scope) -> str:
    """A stable, non-reversible id of the caller's credential (the Authorization header).

    Idempotency keys and the daily quota are scoped by it; the raw header is never stored.
    """
    auth = header(scope, "authorization") or ""
    return hashlib.sha256(auth.encode("latin-1")).hexdigest()


def is_api_request(scope: Scope) -> bool:
    """Codat API paths (faults and rate limits apply); not the customer's Link pages."""
    if scope.get("type") != "http":
        return False
    path: str = scope.get("path", "")
    return not (path == LINK_PREFIX or path.startswith(LINK_PREFIX + "/"))


def connect(db_path: Path) -> sqlite3.Connection:
    """A connection of the layers' own to the sandbox's SQLite file (WAL, busy timeout).

    Autocommit mode: each statement commits by itself unless wrapped in `BEGIN IMMEDIATE`.
    """
    conn = sqlite3.connect(
        str(db_path), timeout=10.0, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class LayerDB:
    """A layer's own tables in the sandbox file: one connection per process (a forked child
    opens its own), the layer's schema created on first use."""

    def __init__(self, db_path: Path, schema: str) -> None:
        self.db_path = db_path
        self._schema = schema
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self._conn = connect(self.db_path)
            self._conn.executescript(self._schema)
            self._pid = os.getpid()
        return self._conn


def error_response(status: int, message: str, *, headers: dict[str, str] | None = None) -> Response:
    """Codat's ErrorMessage body (built by the core's `errors.error_response`)."""
    from reconcile.sandbox import errors

    return errors.error_response(status, message, headers=headers)


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body; None if the client went away before sending all of it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
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


def wrap(app: ASGIApp, options: SandboxOptions, *, clock: Clock = time.time) -> ASGIApp:
    """The core app inside the request log, faults, rate limits, idempotency and latency layers.

    `clock` (seconds since the epoch) is injectable so tests can expire idempotency keys and roll
    the daily quota over without waiting.
    """
    from reconcile.sandbox.faults import FaultMiddleware, LatencyMiddleware
    from reconcile.sandbox.idempotency import IdempotencyMiddleware
    from reconcile.sandbox.ratelimit import RateLimitMiddleware
    from reconcile.sandbox.requestlog import RequestLogMiddleware

    slow = LatencyMiddleware(app, options.latency_ms)
    idempotent = IdempotencyMiddleware(slow, options.db_path, clock=clock)
    limited = RateLimitMiddleware(idempotent, options, clock=clock)
    faulty = FaultMiddleware(limited, options, rate_headers=limited.peek_headers)
    return RequestLogMiddleware(faulty, options.request_log, clock=clock)
