"""Requests begun and not yet on the network: what a run waits for before it starts CPU work in
another thread (`reconcile.runs.plan.built_while_listing`).

A thread's CPU work holds the interpreter: each step of the loop's first requests (the imports
their first connection makes, the connect, the write) then waits for it every few milliseconds,
so a 10,000-customer plan's listing went out ~100 ms late, after most of the build it was meant
to overlap. The client counts each request it begins (`Outbox.begin`); the wire says when the
request's last byte is written (httpcore's trace of a network transport), and the client says
so itself when the attempt ends otherwise (failed, answered by a transport with no network).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# Called once a request is on the network (or known never to be): only the first call counts.
Written = Callable[[], None]


class Outbox:
    """How many requests the client began (`begun`) and how many of those are not written yet."""

    def __init__(self) -> None:
        self.begun = 0
        self.unwritten = 0
        self._moved: asyncio.Event | None = None

    def begin(self) -> Written:
        """One more request begun; call what this returns once it is written (again: no-op)."""
        self.begun += 1
        self.unwritten += 1
        self._wake()
        done = False

        def written() -> None:
            nonlocal done
            if not done:
                done = True
                self.unwritten -= 1
                self._wake()

        return written

    def _wake(self) -> None:
        if self._moved is not None:
            self._moved.set()

    async def written(self, begun: int) -> None:
        """Returns once at least `begun` requests were begun and every one begun is written.
        Callers bound the wait: a request that waits for its pace or a confirmed account is
        not written until then."""
        while self.begun < begun or self.unwritten:
            self._moved = moved = asyncio.Event()
            try:
                await moved.wait()
            finally:
                self._moved = None
