"""A real HTTP receiver on loopback for the sandbox's webhook deliveries, for tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.threads import serving


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def envelope(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


@dataclass
class Receiver:
    url: str
    # Answer the first `failures` requests with 500 (to see the sandbox retry).
    failures: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    refused: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(
        self, ready: Callable[[list[Delivery]], bool], timeout: float = 10.0
    ) -> list[Delivery]:
        """The deliveries so far, once `ready(deliveries)` holds (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                seen = list(self.deliveries)
            if ready(seen):
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(f"webhooks not as expected after {timeout}s: {seen}")
            time.sleep(0.02)

    def of_type(self, event_type: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.envelope["eventType"] == event_type]


@contextmanager
def receiver(failures: int = 0) -> Iterator[Receiver]:
    """Serve a receiver on 127.0.0.1 (a free port) until the block ends."""
    state = Receiver(url="", failures=failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            delivery = Delivery(
                self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
            )
            with state.lock:
                fail = state.failures > 0
                if fail:
                    state.failures -= 1
                    state.refused.append(delivery)
                else:
                    state.deliveries.append(delivery)
            self.send_response(500 if fail else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/codat"
    with serving(server):
        yield state
