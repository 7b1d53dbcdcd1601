"""The layer that gives each request its unit of work (`store/unit.py`): one SQLite transaction
that the inner layers and the store write in, committed once, just before the answer's last
byte is passed on (so the request log line, written as that byte passes the outermost layer,
and a client that has its answer both find everything committed).

It sits outside every layer that writes SQLite (rate limits, idempotency, the core app) and
inside those that write none (request log, guards, faults): a request refused by a guard or
dropped by a fault never opens a transaction; a "lost" response is committed here before the
fault layer discards it. A request whose inner layers raise is rolled back: it writes nothing
(the request log, a file, still gets its line).
"""

from __future__ import annotations

from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconcile.sandbox.store.unit import Connections, Unit, enter, leave

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UnitOfWorkMiddleware:
    def __init__(self, app: ASGIApp, db_path: Path) -> None:
        self.app = app
        self.db_path = db_path
        self.connections = Connections(db_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unit = Unit(
            self.db_path,
            writes=scope["method"] not in READ_METHODS,
            connections=self.connections,
        )

        async def commit_then_send(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                unit.commit()
            await send(message)

        token = enter(unit)
        try:
            await self.app(scope, receive, commit_then_send)
        except BaseException:
            unit.rollback()
            raise
        else:
            unit.commit()  # an answer never finished (the client went away): keep what it did
        finally:
            leave(token)
