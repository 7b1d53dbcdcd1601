"""The sandbox as one ASGI app: Codat routes + the Link page, wrapped by the middleware layers.

With `deliver_webhooks` (as `sandbox serve` sets it) it also starts the webhook dispatcher.

Works under uvicorn and in process through `httpx.ASGITransport` (which runs no lifespan: the
store is opened here, at construction).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from reconcile.sandbox.api.routes import (
    BasicAuth,
    ServerErrors,
    api_error,
    api_routes,
    http_exception,
)
from reconcile.sandbox.errors import ApiError
from reconcile.sandbox.layers import stack
from reconcile.sandbox.link import link_routes
from reconcile.sandbox.onetime import OneTimeLinks
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store.store import Store


def create_core(
    options: SandboxOptions, store: Store | None = None, clock: Callable[[], float] = time.time
) -> Starlette:
    """The Codat app without the cross-cutting layers (auth and error bodies included).
    `clock` (seconds since the epoch): when one-time Link URLs expire."""
    store = store or Store(options.db_path, omit_integration_key=options.omit_integration_key)
    one_time = OneTimeLinks(options.db_path, clock) if options.one_time_links else None
    core = Starlette(
        routes=[*api_routes(), *link_routes(store, one_time)],
        middleware=[
            Middleware(ServerErrors),
            Middleware(BasicAuth, api_key=options.api_key),
        ],
        exception_handlers={HTTPException: http_exception, ApiError: api_error},
    )
    core.state.store = store
    core.state.options = options
    core.state.one_time_links = one_time
    if options.deliver_webhooks:  # the serving process delivers the outbox (any writer fills it)
        from reconcile.sandbox.webhooks.delivery import WebhookDispatcher

        core.state.webhook_dispatcher = WebhookDispatcher(store, options)
        core.state.webhook_dispatcher.start()
    return core


def create_app(
    options: SandboxOptions,
    clock: Callable[[], float] = time.time,
    *,
    date_header: bool = False,
    store: Store | None = None,
) -> ASGIApp:
    """The Codat app with its layers; `clock` for the layers (idempotency windows, the `Date`
    header) and one-time links, `store` (tests: one on the same clock) for the state."""
    return stack.wrap(
        create_core(options, store, clock=clock),
        options,
        joins_unit=True,
        clock=clock,
        date_header=date_header,
    )
