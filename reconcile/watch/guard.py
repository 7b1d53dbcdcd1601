"""What keeps the watch's HTTP listeners up against cheap attacks (slow or idle clients, too many
connections, file descriptors running out), whatever the application does.

- **A read deadline.** A request's headers and body must arrive within `read_deadline` seconds of
  the connection opening (or of the previous answer on a kept-alive connection); a client that is
  slower is disconnected. Once a request is read, the app answers without a deadline (it is
  fast: a delivery is verified and queued).
- **A cap on open connections**, shared by all listeners and kept below the process's file
  descriptor limit. A connection past the cap makes room by closing the oldest connection that
  has not finished sending its request (an idle or slow one): a flood of half-open connections
  churns among themselves while a real client, which sends at once, is served.
- **Accept errors are counted, not logged each time.** When the process runs out of file
  descriptors anyway, asyncio reports every failed `accept()` with a traceback; here the first
  is one line, and then one line per interval says how many more there were.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from reconcile.watch.throttle import Throttle

READ_DEADLINE = 10.0  # seconds for a request's headers and body (a delivery is a few kB)
MAX_CONNECTIONS = 512
FD_RESERVE = 32  # descriptors for the process itself: Codat's connections, the state, logs
ACCEPT_LOG_INTERVAL = 60.0
ACCEPT_FAILED = "socket.accept() out of system resource"  # asyncio's words (selector_events)


def connection_cap(wanted: int | None = None) -> int:
    """`wanted` (or MAX_CONNECTIONS), but at most half the descriptors the process may open
    beyond its own: the other half absorbs connections accepted in a burst, before the cap
    closes the oldest ones (see `accept_batch`)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    room = (soft - FD_RESERVE) // 2 if soft != resource.RLIM_INFINITY else MAX_CONNECTIONS
    return max(1, min(wanted or MAX_CONNECTIONS, room))


def accept_batch(cap: int) -> int:
    """The listen backlog, which is also how many connections asyncio accepts in one go before
    any reaches the guard: small enough that a few bursts fit in the other half."""
    return max(8, min(128, cap // 8))


class ConnectionGuard:
    """The open connections of every listener, and those still reading a request, oldest first."""

    def __init__(
        self,
        max_connections: int,
        read_deadline: float = READ_DEADLINE,
        on_drop: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.max_connections = max_connections
        self.read_deadline = read_deadline
        self.open: set[GuardedH11Protocol] = set()
        self.reading: OrderedDict[GuardedH11Protocol, asyncio.TimerHandle] = OrderedDict()
        self._on_drop = on_drop  # "cap" or "deadline": for the metrics

    def protocol(self) -> type[GuardedH11Protocol]:
        """The uvicorn protocol class for a listener guarded by this guard."""
        return type("Guarded", (GuardedH11Protocol,), {"guard": self})

    def opened(self, conn: GuardedH11Protocol) -> None:
        self.open.add(conn)
        self.start_reading(conn)
        while len(self.open) > self.max_connections and self.reading:
            oldest, timer = self.reading.popitem(last=False)
            timer.cancel()
            self.open.discard(oldest)
            self._on_drop("cap")
            oldest.drop()

    def closed(self, conn: GuardedH11Protocol) -> None:
        self.open.discard(conn)
        self.done_reading(conn)

    def start_reading(self, conn: GuardedH11Protocol) -> None:
        self.done_reading(conn)
        self.reading[conn] = conn.loop.call_later(self.read_deadline, self._too_slow, conn)

    def done_reading(self, conn: GuardedH11Protocol) -> None:
        timer = self.reading.pop(conn, None)
        if timer is not None:
            timer.cancel()

    def _too_slow(self, conn: GuardedH11Protocol) -> None:
        if self.reading.pop(conn, None) is not None:
            self.open.discard(conn)
            self._on_drop("deadline")
            conn.drop()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, under a `ConnectionGuard` (set by `ConnectionGuard.protocol`)."""

    guard: ConnectionGuard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed(self)
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR):
            self.guard.done_reading(self)  # the request is read: the app answers

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is not h11.CLOSED:
            self.guard.start_reading(self)  # kept alive: the next request has its deadline
            if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE):
                self.guard.done_reading(self)  # a pipelined request was already read

    def drop(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


class AcceptErrors:
    """A loop exception handler: failed `accept()`s (EMFILE, ENFILE, ENOBUFS, ENOMEM) become one
    line at once and then at most one line per `interval`, with a count; anything else goes to
    the previous handler."""

    def __init__(
        self,
        log: Callable[[str], None],
        *,
        interval: float = ACCEPT_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._throttle = Throttle(interval, clock)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_FAILED:
            loop.default_exception_handler(context)
            return
        count = self._throttle.count()
        if count is None:
            return
        error = context.get("exception")
        reason = getattr(error, "strerror", None) or type(error).__name__
        self._log(
            f"cannot accept connections ({reason}): {count} failed since the last such line "
            f"(at most one a {self._throttle.interval:g} s); the file descriptor limit is too "
            "low for --max-connections (docs/watch.md)"
        )

    def install(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        previous = loop.get_exception_handler()
        loop.set_exception_handler(self)

        def restore() -> None:
            loop.set_exception_handler(previous)

        return restore
