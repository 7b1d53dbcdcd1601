"""`/companies/{companyId}/connections` and `/companies/{companyId}/connections/{connectionId}`.

Statuses:
- an unknown or missing `platformKey` is 404 (no such integration);
- a second active accounting connection, unlinking a connection that is not Linked, or asking
  for any status other than `Unlinked` is 400 with Codat's ErrorMessage body. The official
  documents list no 400 for these operations (a gap in them: Codat answers a bad request so, and
  403 would tell a client its API key is outdated); the ErrorMessage body is still checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.api.common import (
    base_url,
    call,
    call_on_company,
    json_response,
    listing,
    path_param,
    read_json,
    store_of,
)
from reconcile.sandbox.errors import ApiError, ValidationItem
from reconcile.sandbox.onetime import fresh_links
from reconcile.sandbox.registry import UNLINKED
from reconcile.sandbox.store import CONNECTION_FIELDS, Conflict, NotFound, UnknownPlatform

# "The state does not allow this" (undocumented for these operations; see the module docstring).
NOT_ALLOWED = 400


def _connection_not_found(company_id: str, connection_id: str) -> ApiError:
    return ApiError(404, f"Data connection {connection_id} not found for company {company_id}.")


async def list_connections(request: Request) -> Response:
    company_id = path_param(request, "companyId")

    async def read(**page: Any) -> tuple[list[Any], int]:
        return await call_on_company(
            company_id, store_of(request).list_connections, company_id, **page
        )

    return await listing(request, CONNECTION_FIELDS, read)


async def create_connection(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    body = await read_json(request, invalid_status=404)
    platform_key = body.get("platformKey") if isinstance(body, Mapping) else None
    if not isinstance(platform_key, str):
        raise ApiError(
            404,
            "Integration not found: the body must carry a platformKey.",
            validation=[ValidationItem("platformKey", "platformKey is required")],
        )
    try:
        connection = await call_on_company(
            company_id,
            store_of(request).create_connection,
            company_id,
            platform_key,
            base_url(request),
        )
    except UnknownPlatform:
        raise ApiError(404, f"Integration with platform key '{platform_key}' not found.") from None
    except Conflict as exc:
        raise ApiError(
            NOT_ALLOWED, f"Only one active accounting connection is allowed: {exc}."
        ) from None
    return json_response(await fresh_links(request, connection))


async def get_connection(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    connection_id = path_param(request, "connectionId")
    connection = await call(store_of(request).get_connection, company_id, connection_id)
    if connection is None:
        raise _connection_not_found(company_id, connection_id)
    return json_response(await fresh_links(request, connection))


async def unlink_connection(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    connection_id = path_param(request, "connectionId")
    body = await read_json(request, invalid_status=NOT_ALLOWED)
    status = body.get("status") if isinstance(body, Mapping) else None
    if status != UNLINKED:
        raise ApiError(
            NOT_ALLOWED,
            "A connection can only be updated to status Unlinked.",
            validation=[ValidationItem("status", "status must be Unlinked")],
        )
    try:
        connection = await call(store_of(request).unlink_connection, company_id, connection_id)
    except NotFound:
        raise _connection_not_found(company_id, connection_id) from None
    except Conflict as exc:
        raise ApiError(NOT_ALLOWED, f"Only Linked connections can be unlinked: {exc}.") from None
    return json_response(connection)


async def delete_connection(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    connection_id = path_param(request, "connectionId")
    if not await call(store_of(request).delete_connection, company_id, connection_id):
        raise _connection_not_found(company_id, connection_id)
    return Response(status_code=200)
