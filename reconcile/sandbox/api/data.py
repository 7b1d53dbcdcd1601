"""`/companies/{companyId}/data/suppliers[/{supplierId}]` and `.../data/customers[/...]`: the
suppliers and customers Codat has read from the company's accounting platform.

Choices the specs leave open:
- the data comes from the company's Linked accounting connection (any accounting platform, not
  only Sync for Expenses ones); a company without one has nothing read yet: 404, with Codat's
  ErrorMessage, like an unknown id;
- the lists page like every Codat list (`page`, `pageSize`); `query` and `orderBy` are not
  applied (the data is small and in id order).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.api.common import (
    call,
    company_not_found,
    json_response,
    page_body,
    paging,
    path_param,
    store_of,
)
from reconcile.sandbox.errors import ApiError
from reconcile.sandbox.store import accounting_data
from reconcile.sandbox.store.store import Store

Wire = dict[str, Any]
_DATA: dict[str, Callable[[str, str], list[Wire]]] = {
    "suppliers": accounting_data.suppliers,
    "customers": accounting_data.customers,
}


def _records(store: Store, company_id: str, kind: str) -> list[Wire]:
    if store.get_company(company_id) is None:
        raise company_not_found(company_id)
    platform = store.linked_accounting_platform(company_id)
    if platform is None:
        raise ApiError(
            404,
            f"Company {company_id} has no Linked accounting connection: no {kind} have been "
            "read from its accounting platform.",
        )
    deleted = store.deleted_records(company_id, kind)  # deleted in the platform since
    return [r for r in _DATA[kind](company_id, platform) if r["id"] not in deleted]


async def _list(request: Request, kind: str) -> Response:
    company_id = path_param(request, "companyId")
    page, page_size = paging(request)
    records = await call(_records, store_of(request), company_id, kind)
    start = (page - 1) * page_size
    chosen = records[start : start + page_size]
    return json_response(page_body(request, chosen, page, page_size, len(records)))


async def _get(request: Request, kind: str, id_param: str, singular: str) -> Response:
    company_id = path_param(request, "companyId")
    wanted = path_param(request, id_param)
    records = await call(_records, store_of(request), company_id, kind)
    for record in records:
        if record["id"] == wanted:
            return json_response(record)
    raise ApiError(404, f"{singular} {wanted} not found for company {company_id}.")


async def list_suppliers(request: Request) -> Response:
    return await _list(request, "suppliers")


async def get_supplier(request: Request) -> Response:
    return await _get(request, "suppliers", "supplierId", "Supplier")


async def list_customers(request: Request) -> Response:
    return await _list(request, "customers")


async def get_customer(request: Request) -> Response:
    return await _get(request, "customers", "customerId", "Customer")
