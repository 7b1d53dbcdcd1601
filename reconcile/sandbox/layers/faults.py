"""Seeded, reproducible fault injection on the Codat paths (never on the Link pages).

Each request draws exactly two numbers from one `random.Random(options.seed)` when it arrives,
so for a given seed and request order the sequence of decisions is always the same (per process:
several server processes each replay the same sequence). The first number picks at most one fault
from consecutive bands of width `drop_rate`, `error_rate`, `throttle_rate`, `lost_response_rate`
(their sum is capped at 1); the second picks 500 or 503 for an injected error.

Then:

- **drop**: the connection is closed before anything runs; the client sees a transport error.
- **error**: 500 or 503 with Codat's ErrorMessage body, before anything runs.
- **throttle**: 429 with `Retry-After: options.retry_after_seconds`, before anything runs.
- **lost**: the request runs to completion through the inner layers (the write commits and an
  idempotency key stores its response), then the connection is closed without a response.

`latency_ms` is a separate, innermost layer (`LatencyMiddleware`): an asynchronous sleep right
before the core app handles each API request, so a slow request is *in flight* for the layers
around it: it holds its company's concurrency slot and its idempotency key meanwhile.

Closing "without a response": under uvicorn the server's transport is aborted (the client sees
the connection reset or closed with no status line, e.g. `httpx.RemoteProtocolError`), quietly;
in process (httpx.ASGITransport) `ConnectionDropped`, a subclass of `httpx.RemoteProtocolError`,
is raised through the transport, which is what a client would see on the wire.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconcile.sandbox.errors import error_response
from reconcile.sandbox.layers.common import context_of, is_api_request
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store.unit import current_unit

DROP = "drop"
ERROR = "error"
THROTTLE = "throttle"
LOST = "lost"


class ConnectionDropped(httpx.RemoteProtocolError):
    """The sandbox closed the connection on purpose (an injected fault)."""


@dataclass(frozen=True)
class FaultDecision:
    kind: str | None
    status: int | None = None  # for ERROR (500/503) and THROTTLE (429)


class FaultPlan:
    """The seeded stream of decisions; one `decide()` per API request, in arrival order."""

    def __init__(self, options: SandboxOptions) -> None:
        self.rng = random.Random(options.seed)
        self.retry_after = options.retry_after_seconds
        bands = (
            (DROP, options.drop_rate),
            (ERROR, options.error_rate),
            (THROTTLE, options.throttle_rate),
            (LOST, options.lost_response_rate),
        )
        for name, rate in bands:
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} rate must be between 0 and 1, got {rate}")
        edges: list[tuple[float, str]] = []
        total = 0.0
        for name, rate in bands:
            total = min(1.0, total + rate)
            edges.append((total, name))
        self.edges = tuple(edges)
        self.active = total > 0.0

    def decide(self) -> FaultDecision:
        pick, which = self.rng.random(), self.rng.random()
        for edge, name in self.edges:
            if pick < edge:
                if name == ERROR:
                    return FaultDecision(ERROR, 500 if which < 0.5 else 503)
                if name == THROTTLE:
                    return FaultDecision(THROTTLE, 429)
                return FaultDecision(name)
        return FaultDecision(None)


def _server_transport(send: Send) -> Any:
    """The server's socket transport behind `send`, when the server exposes it (uvicorn), or
    None. Duck-typed: uvloop's transports are not `asyncio.BaseTransport` subclasses."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if callable(getattr(transport, "abort", None)) else None


async def drop_connection(raw_send: Send) -> None:
    """Close the client's connection without (any more of) a response."""
    transport = _server_transport(raw_send)
    if transport is not None:
        transport.abort()
        # Let the server's protocol see `connection_lost` before the app returns, so it treats
        # the missing response as a client disconnect rather than an application error.
        for _ in range(2):
            await asyncio.sleep(0)
        return
    raise ConnectionDropped("the sandbox dropped the connection (injected fault)")


class FaultMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        options: SandboxOptions,
        *,
        rate_headers: Callable[[Scope], dict[str, str]] | None = None,
    ) -> None:
        self.app = app
        self.plan = FaultPlan(options)
        self.retry_after = options.retry_after_seconds
        self.rate_headers = rate_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_api_request(scope) or not self.plan.active:
            await self.app(scope, receive, send)
            return
        decision = self.plan.decide()
        ctx = context_of(scope)
        if ctx is not None:
            ctx.fault = decision.kind
        raw_send = ctx.raw_send if ctx is not None else send
        if decision.kind == DROP:
            if ctx is not None:
                ctx.outcome = "dropped"
            await drop_connection(raw_send)
            return
        if decision.kind in (ERROR, THROTTLE):
            assert decision.status is not None
            headers = dict(self.rate_headers(scope)) if self.rate_headers else {}
            if decision.kind == THROTTLE:
                headers["Retry-After"] = str(self.retry_after)
                message = (
                    "You have made too many requests in a given amount of time; please retry later."
                )
            elif decision.status == 503:
                message = "The service is temporarily unavailable; please retry later."
            else:
                message = "An unexpected error occurred; please retry later."
            await error_response(decision.status, message, headers=headers)(scope, receive, send)
            return
        if decision.kind == LOST:

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
            if ctx is not None:
                ctx.outcome = "lost"
            await drop_connection(raw_send)
            return
        await self.app(scope, receive, send)


class LatencyMiddleware:
    """Sleeps `latency_ms` before the core app handles an API request.

    Innermost, it also decides whether the inner app runs in the request's open transaction
    (`store/unit.py`): the sandbox's core app does (`joins_unit`: its store calls join it and it
    never waits while it is open); any other app, and any request about to sleep here, gets what
    the layers wrote committed first, so that nothing holds the write lock while it waits.
    """

    def __init__(self, app: ASGIApp, latency_ms: int, *, joins_unit: bool = False) -> None:
        self.app = app
        self.latency = max(0, latency_ms) / 1000.0
        self.joins_unit = joins_unit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slow = self.latency > 0 and is_api_request(scope)
        unit = current_unit()
        if unit is not None and (slow or not self.joins_unit):
            unit.checkpoint()
        if slow:
            await asyncio.sleep(self.latency)
        await self.app(scope, receive, send)
