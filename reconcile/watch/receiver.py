"""The watch's HTTP faces: the public one (POST /webhooks/codat, GET /healthz) and the internal
one (GET /status, /metrics, /healthz).

A delivery is answered at once: verified, deduplicated on its message id, turned into a hint
(queue this company; pause or resume writes for the quota) and acknowledged. The work happens
later, in the scheduler. Answers: 200 accepted (or a duplicate, or an event the watch has no use
for), 401 not signed with our secret (missing, forged, expired or dated too far ahead; nothing
changes), 413 larger than the cap, 400 signed but not a JSON object.

The internal face also serves the status page (`GET /`, `GET /customers/{uid}`: read-only HTML,
no script) and `POST /resync` (a full pass now), which needs `Authorization: Bearer TOKEN` with
the token the watch was given (RECONCILE_WATCH_TOKEN); without one it is not offered (403).

The internal face answers only the host names it is given (loopback names and `--status-host`):
a web page in a browser on the same machine cannot read it through a DNS name of its own that
resolves to loopback (DNS rebinding). A wrong `Host:` gets 400.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from reconcile.render.html import (
    CUSTOMER,
    REPORT,
    customer_context,
    environment,
    page_href,
    report_context,
)
from reconcile.watch.events import Hint, read_hint
from reconcile.watch.metrics import CONTENT_TYPE, Metrics
from reconcile.watch.seen import SeenIds
from reconcile.watch.signature import Rejected, Verifier

if TYPE_CHECKING:
    from reconcile.render.status_view import StatusView
    from reconcile.watch.deliveries import Deliveries

MAX_BODY_BYTES = 256 * 1024  # Codat's connection events are a few kB
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(
    verifier: Verifier,
    on_hint: Callable[[Hint], None],
    metrics: Metrics,
    seen: SeenIds,
    *,
    max_body: int = MAX_BODY_BYTES,
    deliveries: Deliveries | None = None,
    on_delivery: Callable[[str, str], None] | None = None,
) -> Starlette:
    """The public face: what Codat (through the HTTPS proxy) and a liveness probe need.
    `on_delivery(outcome, message)` hears each answer (the notifier: refused deliveries)."""

    def answer(outcome: str, code: int, message: str) -> JSONResponse:
        metrics.delivery(outcome)
        if deliveries is not None and code == 200:
            deliveries.accepted()
        if on_delivery is not None:
            on_delivery(outcome, message)
        return JSONResponse({"outcome": outcome, "message": message}, status_code=code)

    async def webhook(request: Request) -> Response:
        try:
            body = await _capped_body(request, max_body)
        except ClientDisconnect:  # it left (or was too slow): nobody to answer
            return Response(status_code=400)
        if body is None:
            return answer("too_large", 413, f"the body is larger than {max_body} bytes")
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            delivery = verifier.verify(body, headers)
        except Rejected as exc:
            if deliveries is not None:
                deliveries.refused(str(exc))
            return answer("unauthorized", 401, f"signature not accepted: {exc}")
        if delivery.message_id in seen:
            return answer("duplicate", 200, "already received")
        try:
            event = json.loads(delivery.body)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            return answer("malformed", 400, "the body is not a JSON object")
        if not seen.first_time(delivery.message_id):  # a replica took it meanwhile
            return answer("duplicate", 200, "already received")
        hint = read_hint(event)
        if hint is None:
            return answer("ignored", 200, "no use for this event")
        on_hint(hint)
        return answer("accepted", 200, "queued")

    return Starlette(
        routes=[
            Route("/webhooks/codat", webhook, methods=["POST"]),
            Route("/healthz", _healthz, methods=["GET"]),
        ]
    )


def create_status_app(
    metrics: Metrics,
    status: Callable[[], dict[str, Any]],
    hosts: Iterable[str] = (),
    *,
    view: Callable[[str | None], StatusView] | None = None,
    resync: Callable[[str], None] | None = None,
    resync_token: str | None = None,
) -> Starlette:
    """The internal face, for operators and Prometheus: only for `hosts` and loopback names."""
    templates = Jinja2Templates(env=environment())

    async def metrics_page(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    async def status_page(request: Request) -> Response:
        return JSONResponse(status())

    async def overview(request: Request) -> Response:
        if view is None:
            return PlainTextResponse("no status page\n", status_code=404)
        context = report_context(view(None), page_href, inline_customers=False)
        return templates.TemplateResponse(request, REPORT, context, headers=PAGE_HEADERS)

    async def customer_page(request: Request) -> Response:
        uid = request.path_params["uid"]
        found = view(uid) if view is not None else None
        customer = found.customer(uid) if found is not None else None
        if found is None or customer is None:
            return HTMLResponse(
                '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                "<title>Not found</title></head><body><main><h1>Not found</h1>"
                "<p>The watch has not seen this customer.</p>"
                '<p><a href="../">Back to the overview</a></p></main></body></html>\n',
                status_code=404,
                headers=PAGE_HEADERS,
            )
        context = customer_context(found, customer, "../")
        return templates.TemplateResponse(request, CUSTOMER, context, headers=PAGE_HEADERS)

    async def resync_now(request: Request) -> Response:
        if resync is None or not resync_token:
            return JSONResponse(
                {
                    "outcome": "forbidden",
                    "message": "POST /resync is not enabled: start the "
                    "watch with RECONCILE_WATCH_TOKEN (or RECONCILE_WATCH_TOKEN_FILE) set",
                },
                status_code=403,
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), resync_token.encode()
        ):
            return JSONResponse(
                {"outcome": "unauthorized", "message": "Authorization: Bearer TOKEN required"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        resync("POST /resync")
        return JSONResponse({"outcome": "queued", "message": "a full pass starts next"}, 202)

    allowed = [*LOOPBACK_NAMES, *(h.lower() for h in hosts)]
    return Starlette(
        routes=[
            Route("/", overview, methods=["GET"]),
            Route("/customers/{uid}", customer_page, methods=["GET"]),
            Route("/healthz", _healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            Route("/status", status_page, methods=["GET"]),
            Route("/resync", resync_now, methods=["POST"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed, www_redirect=False)],
    )


async def _healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


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
