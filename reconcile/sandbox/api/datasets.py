"""`GET /companies/{companyId}/dataStatus`, `POST /companies/{companyId}/data/all`, `GET
/companies/{companyId}/data/history` and `GET/POST /profile/syncSettings` (Codat-Platform.json).
The rules are in `reconcile.sandbox.store.datasets` and `reconcile.sandbox.store.pulls`.

Choices the specs leave open:
- a refresh of a company without a Linked accounting connection answers 404 (nothing to read
  from), like the data endpoints;
- `POST /profile/syncSettings` replaces the account's settings with the ones posted (one per data
  type; Codat's own text: "Include a syncSetting object for each data type"), after checking each
  against `SyncSetting`'s required fields and the data type enum; `clientId` must be the
  account's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.api.common import (
    call,
    call_on_company,
    json_response,
    page_body,
    paging,
    path_param,
    query_and_order,
    read_json,
    store_of,
)
from reconcile.sandbox.errors import ApiError, ValidationItem
from reconcile.sandbox.options import SandboxOptions
from reconcile.sandbox.store.datasets import client_id
from reconcile.sandbox.store.pulls import PULL_FIELDS

# DataStatus.dataType's enum in Codat-Platform.json (the accounting, banking and commerce types).
KNOWN_DATA_TYPES: Final = frozenset(
    {
        "accountTransactions", "balanceSheet", "bankAccounts", "bankTransactions",
        "billCreditNotes", "billPayments", "bills", "cashFlowStatement", "chartOfAccounts",
        "company", "creditNotes", "customers", "directCosts", "directIncomes", "invoices",
        "itemReceipts", "items", "journalEntries", "journals", "paymentMethods", "payments",
        "profitAndLoss", "purchaseOrders", "salesOrders", "suppliers", "taxRates",
        "trackingCategories", "transfers", "banking-accountBalances", "banking-accounts",
        "banking-transactionCategories", "banking-transactions", "commerce-companyInfo",
        "commerce-customers", "commerce-disputes", "commerce-locations", "commerce-orders",
        "commerce-paymentMethods", "commerce-payments", "commerce-productCategories",
        "commerce-products", "commerce-taxComponents", "commerce-transactions",
    }
)  # fmt: skip
_INTEGER_FIELDS: Final = ("syncSchedule", "syncOrder", "syncFromWindow", "monthsToSync")
_REQUIRED: Final = ("dataType", "fetchOnFirstLink", "syncSchedule", "syncOrder")


async def get_data_status(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    statuses = await call_on_company(company_id, store_of(request).data_status, company_id)
    return json_response(statuses)


async def refresh_all_data(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    refreshed = await call_on_company(company_id, store_of(request).refresh_all, company_id)
    if not refreshed:
        raise ApiError(
            404,
            f"Company {company_id} has no Linked accounting connection: there is no data to"
            " refresh.",
        )
    return Response(status_code=204)


async def list_pull_operations(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    page, page_size = paging(request)
    query, order = query_and_order(request, PULL_FIELDS)
    store = store_of(request)
    found, total = await call_on_company(
        company_id, store.pull_operations, company_id, page, page_size, query, order
    )
    return json_response(page_body(request, found, page, page_size, total))


def _client_id(request: Request) -> str:
    options: SandboxOptions = request.app.state.options
    return client_id(options.account_name)


async def get_sync_settings(request: Request) -> Response:
    settings = await call(store_of(request).sync_settings)
    return json_response(
        {"clientId": _client_id(request), "settings": settings, "overridesDefaults": True}
    )


def _setting_problems(index: int, setting: Any) -> list[ValidationItem]:
    where = f"settings[{index}]"
    if not isinstance(setting, Mapping):
        return [ValidationItem(where, f"{where} must be a SyncSetting object")]
    problems = [
        ValidationItem(f"{where}.{name}", f"{where}.{name} is required")
        for name in _REQUIRED
        if name not in setting
    ]
    data_type = setting.get("dataType")
    if "dataType" in setting and data_type not in KNOWN_DATA_TYPES:
        problems.append(ValidationItem(f"{where}.dataType", f"unknown data type {data_type!r}"))
    for name in _INTEGER_FIELDS:
        value = setting.get(name)
        if name in setting and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(ValidationItem(f"{where}.{name}", f"{where}.{name} must be an integer"))
    for name in ("fetchOnFirstLink", "isLocked"):
        if name in setting and not isinstance(setting.get(name), bool):
            problems.append(ValidationItem(f"{where}.{name}", f"{where}.{name} must be a boolean"))
    return problems


async def set_sync_settings(request: Request) -> Response:
    body = await read_json(request)
    if not isinstance(body, Mapping):
        problem = ValidationItem(None, "the body must be an object with clientId and settings")
        raise ApiError(400, "Error processing request - not valid.", validation=[problem])
    problems = [
        ValidationItem(name, f"{name} is required")
        for name in ("clientId", "settings", "overridesDefaults")
        if name not in body
    ]
    settings = body.get("settings")
    if "settings" in body and not isinstance(settings, list):
        problems.append(ValidationItem("settings", "settings must be an array"))
    elif isinstance(settings, list):
        for index, setting in enumerate(settings):
            problems += _setting_problems(index, setting)
        types = [s.get("dataType") for s in settings if isinstance(s, Mapping)]
        if len(types) != len(set(map(str, types))):
            problems.append(ValidationItem("settings", "each data type may appear only once"))
    if "clientId" in body and body.get("clientId") != _client_id(request):
        problems.append(ValidationItem("clientId", "clientId is not this account's client id"))
    if problems:
        raise ApiError(400, "Error processing request - not valid.", validation=problems)
    assert isinstance(settings, list)
    await call(store_of(request).set_sync_settings, [dict(s) for s in settings])
    return Response(status_code=204)
