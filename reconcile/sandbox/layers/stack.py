"""The sandbox's cross-cutting layers around the Codat routes.

`wrap(app, options)` stacks pure ASGI middleware (no Starlette `BaseHTTPMiddleware`, so they run the
same under uvicorn and in process through `httpx.ASGITransport`). Outermost first:

1. **request log** (`requestlog.py`): it must see every request, including the ones a later layer
   refuses, drops or loses, and time all of them; it also creates the per-request context
   (`RequestContext`) the inner layers write their decisions into (fault, replay, outcome).
2. **guards** (`guards.py`): only loopback `Host` headers (DNS rebinding cannot drive the sandbox,
   and no foreign host reaches a stored linkUrl), and request bodies capped while they are read
   (413). A refused request touches nothing: no quota, no idempotency key, no store.
3. **faults** (`faults.py`): drops, injected 5xx and 429 simulate the network and Codat's
   front door, so they happen *before* anything else: a dropped or throttled request never counts
   against the quota, never claims an idempotency key and never touches the store; exactly what a
   client sees from a flaky network (the injected 5xx and 429 still carry the current
   `X-Rate-Limit-*` values, read without counting). The "lost response" fault is also decided
   here (so that one seeded random stream decides all faults in request order) but it wraps the
   *whole* inner stack:
   rate limit, idempotency and the core app run to completion and commit, the idempotency layer
   records the response, and only then is the connection closed without an answer. A retry with
   the same `Idempotency-Key` therefore replays the lost response, as Codat would.
4. **rate limits** (`ratelimit.py`): counted before idempotency because Codat counts every request,
   replays included, and adds `X-Rate-Limit-*` to every response, replays and errors included; a
   429 from here never reaches the idempotency layer, so it neither claims nor stores a key.
5. **idempotency** (`idempotency.py`): right around the core app, so that what it stores and
   replays is exactly the app's answer (with its 4xx/5xx) and nothing the outer layers add.
6. **latency** (`faults.LatencyMiddleware`): innermost, it stands for Codat's processing time, so a
   slow request is in flight for every layer above: it holds its company's concurrency slot (the
   cap can be hit) and its idempotency key (a concurrent retry gets 409), as on the real API.

Between faults and rate limits, **the unit of work** (`unit.py`): the request's one SQLite
transaction, which rate limits, idempotency and the store write in, committed once before the
answer's last byte is passed on (`store/unit.py` says when it commits earlier).

The helpers the layers share live in `common.py`: the layers and this module import it, never the
other way round.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp

from reconcile.sandbox.layers.common import Clock
from reconcile.sandbox.layers.date import DateHeaderMiddleware
from reconcile.sandbox.layers.faults import FaultMiddleware, LatencyMiddleware
from reconcile.sandbox.layers.guards import BodyLimitMiddleware, LoopbackHostMiddleware
from reconcile.sandbox.layers.idempotency import IdempotencyMiddleware, IdempotencyStore
from reconcile.sandbox.layers.ratelimit import RateLimitMiddleware
from reconcile.sandbox.layers.requestlog import RequestLogMiddleware
from reconcile.sandbox.layers.unit import UnitOfWorkMiddleware
from reconcile.sandbox.options import SandboxOptions


def wrap(
    app: ASGIApp,
    options: SandboxOptions,
    *,
    clock: Clock = time.time,
    joins_unit: bool = False,
    date_header: bool = False,
) -> ASGIApp:
    """The core app inside the request log, guards, faults, the unit of work, rate limits,
    idempotency and latency.

    `clock` (seconds since the epoch) is injectable so tests can expire idempotency keys and roll
    the daily quota over without waiting. `joins_unit` says that `app` does its SQLite work in the
    request's transaction and never waits while it is open (the sandbox's core app): then a
    request commits once; any other app gets the layers' writes committed before it runs.
    `date_header`: answers carry a `Date` by `clock` (`sandbox serve`, which tells uvicorn to add
    none); it sits inside the faults, which abort the server's own transport to drop a
    connection or lose an answer.
    """
    slow = LatencyMiddleware(app, options.latency_ms, joins_unit=joins_unit)
    idempotent = IdempotencyMiddleware(slow, IdempotencyStore(options.db_path), clock)
    limited = RateLimitMiddleware(idempotent, options, clock=clock)
    unit: ASGIApp = UnitOfWorkMiddleware(limited, options.db_path)
    if date_header:
        unit = DateHeaderMiddleware(unit, clock)
    faulty = FaultMiddleware(unit, options, rate_headers=limited.peek_headers)
    capped = BodyLimitMiddleware(faulty, options.max_body_bytes)
    hosts = LoopbackHostMiddleware(capped)
    return RequestLogMiddleware(hosts, options.request_log, clock=clock)
