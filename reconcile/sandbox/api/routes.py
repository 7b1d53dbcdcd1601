"""The Codat routes the sandbox serves, and the guards around them: Basic auth and errors.

Every error is Codat's ErrorMessage: unknown routes (404), wrong methods (405), refused
requests (ApiError) and crashes (500).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconcile.sandbox.api import (
    companies,
    connections,
    data,
    datasets,
    expenses,
    profile,
    webhooks,
)
from reconcile.sandbox.errors import ApiError, api_error_response, error_response
from reconcile.sandbox.store.unit import current_unit

log = logging.getLogger("reconcile.sandbox")

COMPANY: Final = "/companies/{companyId}"
CONNECTION: Final = COMPANY + "/connections/{connectionId}"
EXPENSES: Final = COMPANY + "/sync/expenses"
# Paths outside the Codat API (the Link page a customer opens) need no API key.
UNAUTHENTICATED_PREFIXES: Final = ("/link",)

Endpoint = Callable[[Request], Awaitable[Response]]


def _route(path: str, handlers: Mapping[str, Endpoint]) -> Route:
    """One route per path, so a wrong method answers 405 with the full `Allow` list."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return Route(path, dispatch, methods=list(handlers))


def api_routes() -> list[BaseRoute]:
    return [
        _route(
            "/companies",
            {"GET": companies.list_companies, "POST": companies.create_company},
        ),
        _route(
            COMPANY,
            {
                "GET": companies.get_company,
                "PUT": companies.replace_company,
                "PATCH": companies.patch_company,
                "DELETE": companies.delete_company,
            },
        ),
        _route(
            COMPANY + "/connections",
            {"GET": connections.list_connections, "POST": connections.create_connection},
        ),
        _route(
            CONNECTION,
            {
                "GET": connections.get_connection,
                "PATCH": connections.unlink_connection,
                "DELETE": connections.delete_connection,
            },
        ),
        _route(
            EXPENSES + "/connections/partnerExpense",
            {"POST": expenses.create_partner_expense_connection},
        ),
        _route(EXPENSES + "/config", {"GET": expenses.get_config, "POST": expenses.set_config}),
        _route(EXPENSES + "/mappingOptions", {"GET": expenses.get_mapping_options}),
        _route("/profile", {"GET": profile.get_profile}),
        _route(
            "/webhooks",
            {"GET": webhooks.list_consumers, "POST": webhooks.create_consumer},
        ),
        _route("/webhooks/{webhookId}", {"DELETE": webhooks.delete_consumer}),
        _route(COMPANY + "/data/suppliers", {"GET": data.list_suppliers}),
        _route(COMPANY + "/data/suppliers/{supplierId}", {"GET": data.get_supplier}),
        _route(COMPANY + "/data/customers", {"GET": data.list_customers}),
        _route(COMPANY + "/data/customers/{customerId}", {"GET": data.get_customer}),
        _route(COMPANY + "/dataStatus", {"GET": datasets.get_data_status}),
        _route(COMPANY + "/data/all", {"POST": datasets.refresh_all_data}),
        _route(COMPANY + "/data/history", {"GET": datasets.list_pull_operations}),
        _route(
            "/profile/syncSettings",
            {"GET": datasets.get_sync_settings, "POST": datasets.set_sync_settings},
        ),
    ]


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "Not found.", 405: "Method not allowed."}
    message = messages.get(exc.status_code, exc.detail)
    return error_response(exc.status_code, message, headers=exc.headers)


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return api_error_response(exc)


def basic_key(authorization: str | None) -> str | None:
    """The raw API key of an `Authorization: Basic <base64 key>` header; None if malformed."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        key = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return key or None


class BasicAuth:
    """Refuse Codat API requests without a valid Basic key (401 ErrorMessage)."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNAUTHENTICATED_PREFIXES):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization")
        key = basic_key(header.decode("latin-1") if header else None)
        if key is None or (
            self.api_key is not None
            and not hmac.compare_digest(key.encode("utf-8"), self.api_key.encode("utf-8"))
        ):
            response = error_response(
                401, "Unauthorized", headers={"WWW-Authenticate": 'Basic realm="Codat"'}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ServerErrors:
    """A crash becomes Codat's 500 ErrorMessage (and a logged traceback), never a bare page; what
    the crashed handler wrote in the request's transaction is undone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        unit = current_unit()
        mark = unit.mark() if unit is not None else None
        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("sandbox request failed: %s %s", scope.get("method"), scope.get("path"))
            if unit is not None:
                unit.undo_to(mark)  # a crash writes nothing (its count and key claim stay)
            if started or scope["type"] != "http":
                raise
            response = error_response(
                500, "There is a problem with our server. Please try again later."
            )
            await response(scope, receive, send)
