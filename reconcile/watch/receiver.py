"""The watch's HTTP face: POST /webhooks/codat, GET /healthz, GET /metrics, GET /status.

A delivery is answered at once: verified, deduplicated on its message id, turned into a hint
(queue this company; pause or resume writes for the quota) and acknowledged. The work happens
later, in the scheduler. Answers: 200 accepted (or a duplicate, or an event the watch has no use
for), 401 not signed with our secret (missing, forged or expired; nothing changes), 413 larger
than the cap, 400 signed but not a JSON object.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from reconcile.watch.events import Hint, read_hint
from reconcile.watch.metrics import CONTENT_TYPE, Metrics
from reconcile.watch.signature import Rejected, Verifier

MAX_BODY_BYTES = 256 * 1024  # Codat's connection events are a few kB
SEEN_SECONDS = 15 * 60.0  # longer than the 5 minutes a signature's timestamp is accepted
MAX_SEEN = 100_000


class SeenIds:
    """Message ids accepted lately: a redelivery or a replay within the window is a duplicate.
    (Past it, the signature's timestamp has expired and the delivery gets 401 anyway.)"""

    def __init__(self, ttl: float = SEEN_SECONDS, limit: int = MAX_SEEN) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._ttl = ttl
        self._limit = limit

    def __contains__(self, message_id: object) -> bool:
        self._expire()
        return message_id in self._seen

    def add(self, message_id: str) -> None:
        self._seen[message_id] = time.monotonic()
        self._seen.move_to_end(message_id)
        while len(self._seen) > self._limit:
            self._seen.popitem(last=False)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self._ttl
        while self._seen and next(iter(self._seen.values())) < cutoff:
            self._seen.popitem(last=False)


def create_app(
    verifier: Verifier,
    on_hint: Callable[[Hint], None],
    metrics: Metrics,
    status: Callable[[], dict[str, Any]],
    *,
    max_body: int = MAX_BODY_BYTES,
) -> Starlette:
    seen = SeenIds()

    def answer(outcome: str, code: int, message: str) -> JSONResponse:
        metrics.delivery(outcome)
        return JSONResponse({"outcome": outcome, "message": message}, status_code=code)

    async def webhook(request: Request) -> Response:
        body = await _capped_body(request, max_body)
        if body is None:
            return answer("too_large", 413, f"the body is larger than {max_body} bytes")
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            delivery = verifier.verify(body, headers)
        except Rejected as exc:
            return answer("unauthorized", 401, f"signature not accepted: {exc}")
        if delivery.message_id in seen:
            return answer("duplicate", 200, "already received")
        try:
            event = json.loads(delivery.body)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            return answer("malformed", 400, "the body is not a JSON object")
        seen.add(delivery.message_id)
        hint = read_hint(event)
        if hint is None:
            return answer("ignored", 200, "no use for this event")
        on_hint(hint)
        return answer("accepted", 200, "queued")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def metrics_page(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    async def status_page(request: Request) -> Response:
        return JSONResponse(status())

    return Starlette(
        routes=[
            Route("/webhooks/codat", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            Route("/status", status_page, methods=["GET"]),
        ]
    )


async def _capped_body(request: Request, cap: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `cap` (the rest is never read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return None
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > cap:
            return None
        parts.append(part)
    return b"".join(parts)
