"""The sandbox's cross-cutting layers around the Codat routes.

Owned by the middleware work (idempotency, rate limits, fault injection, request log);
until that lands, `wrap` returns the core app unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from reconcile.sandbox.options import SandboxOptions


def wrap(app: ASGIApp, options: SandboxOptions) -> ASGIApp:
    return app
