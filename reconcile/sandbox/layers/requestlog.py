"""One JSON line per request, and the per-request context every inner layer writes into.

Fields: `time` (ISO 8601 UTC, when the request arrived), `method`, `path`, `query`, `status` (the
status sent, or "dropped"/"lost" when no response reached the client, or null if the app failed
before answering), `idempotency_key`, `idempotency` ("stored", "replayed", "conflict",
"in_flight" or null), `duration_ms`, `fault` (the injected fault or null), `pid`.

Safe with several processes appending to one file: it is opened with O_APPEND and each line is
written with a single `os.write`, which POSIX keeps whole for regular files.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconcile.sandbox.layers.common import CONTEXT_KEY, Clock, RequestContext, header


class RequestLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every entry of a request log, in file order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, path: Path | None, *, clock: Clock = time.time) -> None:
        self.app = app
        self.log = RequestLog(path) if path is not None else None
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = RequestContext(raw_send=send)
        scope = {**scope, CONTEXT_KEY: ctx}
        if self.log is None:
            await self.app(scope, receive, send)
            return
        log = self.log
        arrived = self.clock()
        started = time.perf_counter()
        status: int | None = None
        written = False

        def write_entry() -> None:
            nonlocal written
            if written:
                return
            written = True
            outcome: int | str | None = ctx.outcome or status
            log.write(
                {
                    "time": datetime.fromtimestamp(arrived, UTC).isoformat(timespec="milliseconds"),
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": bytes(scope.get("query_string", b"")).decode("latin-1"),
                    "status": outcome,
                    "idempotency_key": header(scope, "idempotency-key"),
                    "idempotency": ctx.idempotency,
                    "duration_ms": round((time.perf_counter() - started) * 1000.0, 3),
                    "fault": ctx.fault,
                    "pid": os.getpid(),
                }
            )

        async def logged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Logged before the client has the whole answer: a client that reads the log
                # once it has its answer finds the line there (with a fast server it would not).
                write_entry()
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            write_entry()  # the answers that never reach the client: dropped, lost, failed
