"""The sandbox as one ASGI app: Codat routes + the Link page, wrapped by the middleware layers.

With `deliver_webhooks` (as `sandbox serve` sets it) it also starts the webhook dispatcher.

Works under uvicorn and in process through `httpx.ASGITransport` (which runs no lifespan: the
store is opened here, at construction).
"""

from __future__ import annotations

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
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store.store import Store


def create_core(options: SandboxOptions, store: Store | None = None) -> Starlette:
    """The Codat app without the cross-cutting layers (auth and error bodies included)."""
    store = store or Store(options.db_path, omit_integration_key=options.omit_integration_key)
    core = Starlette(
        routes=[*api_routes(), *link_routes(store)],
        middleware=[
            Middleware(ServerErrors),
            Middleware(BasicAuth, api_key=options.api_key),
        ],
        exception_handlers={HTTPException: http_exception, ApiError: api_error},
    )
    core.state.store = store
    core.state.options = options
    if options.deliver_webhooks:  # the serving process delivers the outbox (any writer fills it)
        from reconcile.sandbox.webhooks.delivery import WebhookDispatcher

        core.state.webhook_dispatcher = WebhookDispatcher(store, options)
        core.state.webhook_dispatcher.start()
    return core


def create_app(options: SandboxOptions) -> ASGIApp:
    return stack.wrap(create_core(options), options, joins_unit=True)
