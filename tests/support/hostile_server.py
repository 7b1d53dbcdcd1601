"""A hostile Codat for tests: a real HTTP server on loopback that answers crafted bodies.

`serve_hostile(route)` starts it in a thread (stdlib `http.server`: raw bytes, any status, any
header, nothing validated) and yields a `HostileCodat` with its `url` and every request it
received (`requests`: method, path, query, headers), so a test can assert what was sent.
`route(request)` returns the `Reply`; `companies_route(...)` builds the usual one: a crafted
`GET /companies` answer, 404 (Codat's ErrorMessage) for everything else. `Reply(drip=5)` sends
its body one byte every 5 s (httpx's per-read timeout never fires).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Seen:
    """One request as it arrived: `path` exactly as sent (still percent-encoded)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # bytes are sent as they are; anything else as JSON; None: no body
    headers: Mapping[str, str] = field(default_factory=dict)
    drip: float = 0.0  # > 0: the body is sent one byte every `drip` seconds (a slow drip)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


Route = Callable[[Seen], Reply]


def not_found(seen: Seen) -> Reply:
    return Reply(
        404,
        {"statusCode": 404, "service": "PublicApi", "error": "Not found", "correlationId": "c-1"},
    )


def company(owner: str = "hostile-test", uid: str = "cus-1", **fields: Any) -> dict[str, Any]:
    """A well-formed company of `owner` (override or add any field)."""
    return {
        "id": str(uuid.uuid4()),
        "name": "Acme",
        "tags": {"reconcile.owner": owner, "reconcile.uid": uid},
        "dataConnections": [],
        **fields,
    }


def connection(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "integrationId": str(uuid.uuid4()),
        "integrationKey": "gbol",
        "sourceId": str(uuid.uuid4()),
        "sourceType": "Accounting",
        "platformName": "Xero",
        "linkUrl": "https://link.example/x",
        "status": "Linked",
        "created": "2026-01-01T00:00:00Z",
        **fields,
    }


def page(results: list[Any], total: int | None = None) -> dict[str, Any]:
    return {
        "results": results,
        "pageNumber": 1,
        "pageSize": 5000,
        "totalResults": len(results) if total is None else total,
        "_links": {"self": {"href": "/companies"}, "current": {"href": "/companies"}},
    }


def companies_route(answer: Reply | Callable[[Seen], Reply]) -> Route:
    """`GET /companies` answers `answer` (a Reply, or a function of the request) and `GET
    /profile` a plain account, as Codat always does (`plan` reads both); the rest 404."""

    def route(seen: Seen) -> Reply:
        if seen.method == "GET" and seen.path == "/companies":
            return answer(seen) if callable(answer) else answer
        if seen.method == "GET" and seen.path == "/profile":
            return Reply(
                200, {"name": "Hostile test account", "redirectUrl": "https://example.com"}
            )
        return not_found(seen)

    return route


class HostileCodat:
    def __init__(self, route: Route) -> None:
        self.route = route
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    @property
    def methods(self) -> set[str]:
        with self._lock:
            return {r.method for r in self.requests}

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        codat = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command, parts.path, parse_qs(parts.query), dict(self.headers), body
                )
                codat._record(seen)
                reply = codat.route(seen)
                content = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if not reply.drip:
                    self.wfile.write(content)
                    return
                try:
                    for i in range(len(content)):
                        self.wfile.write(content[i : i + 1])
                        self.wfile.flush()
                        time.sleep(reply.drip)
                except OSError:  # the client gave up: what a deadline is for
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def serve_hostile(route: Route) -> Iterator[HostileCodat]:
    server = HostileCodat(route)
    server.start()
    try:
        yield server
    finally:
        server.stop()
