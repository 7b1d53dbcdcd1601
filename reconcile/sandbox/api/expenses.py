"""Sync for Expenses: the partner expense connection, the company config, mapping options.

Choices the specs leave open:
- the partner expense connection is refused (400) while the company's accounting connection is
  PendingAuth: Codat says to create it once the customer has authorized; a company with no
  accounting connection may have one.
- GET config before any was set answers 404 (documented) with an ErrorMessage.
- mapping options need a Linked accounting connection; without one GET answers 404.
- POST config checks `bankAccount.id` against the mapping options' bank accounts. Mapping
  options list no suppliers or customers, so those ids are only checked to be non-empty strings
  (as Codat does: a client checks them first with `GET .../data/suppliers/{supplierId}` and
  `.../data/customers/{customerId}`, served by `reconcile.sandbox.api.data`).
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
    company_not_found,
    json_response,
    path_param,
    read_json,
    store_of,
)
from reconcile.sandbox.errors import ApiError, ValidationItem
from reconcile.sandbox.registry import EXPENSE, LINKED, PARTNER_EXPENSE
from reconcile.sandbox.store import Conflict, NotFound, Store
from reconcile.sandbox.store.mapping import bank_account_ids, mapping_options

CONFIG_FIELDS = ("bankAccount", "supplier", "customer")


async def create_partner_expense_connection(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    try:
        connection = await call_on_company(
            company_id,
            store_of(request).create_partner_expense_connection,
            company_id,
            base_url(request),
        )
    except Conflict as exc:
        raise ApiError(400, str(exc)) from None
    return json_response(connection)


async def get_config(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    store = store_of(request)
    if await call(store.get_company, company_id) is None:
        raise company_not_found(company_id)
    config = await call(store.get_expense_config, company_id)
    if config is None:
        raise ApiError(404, f"No expense configuration has been set for company {company_id}.")
    return json_response(config)


def _company_mapping_options(store: Store, company_id: str) -> dict[str, Any] | None:
    """None when the company has no Linked accounting connection; NotFound without a company."""
    company = store.get_company(company_id)
    if company is None:
        raise NotFound(company_id)
    platform = store.linked_accounting_platform(company_id)
    if platform is None:
        return None
    expense_linked = any(
        c["sourceType"] == EXPENSE and c["status"] == LINKED for c in company["dataConnections"]
    )
    options = mapping_options(
        company_id, platform, PARTNER_EXPENSE.name if expense_linked else None
    )
    deleted = store.deleted_records(company_id, "bankAccounts")  # deleted in the platform
    if deleted:
        options["accounts"] = [a for a in options["accounts"] if a["id"] not in deleted]
    return options


async def get_mapping_options(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    options = await call_on_company(
        company_id, _company_mapping_options, store_of(request), company_id
    )
    if options is None:
        raise ApiError(404, f"Company {company_id} has no Linked accounting connection.")
    return json_response(options)


def _config_from(body: Any) -> dict[str, dict[str, str]]:
    if not isinstance(body, Mapping):
        raise ApiError(
            400,
            "Error processing request - not valid.",
            validation=[ValidationItem(None, "the body must be a CompanyConfiguration object")],
        )
    problems = []
    config: dict[str, dict[str, str]] = {}
    for name in CONFIG_FIELDS:
        part = body.get(name)
        item_id = part.get("id") if isinstance(part, Mapping) else None
        if not isinstance(item_id, str) or not item_id:
            problems.append(ValidationItem(name, f"{name}.id is required"))
        else:
            config[name] = {"id": item_id}
    if problems:
        raise ApiError(400, "Error processing request - not valid.", validation=problems)
    return config


async def set_config(request: Request) -> Response:
    company_id = path_param(request, "companyId")
    config = _config_from(await read_json(request))
    store = store_of(request)
    options = await call_on_company(company_id, _company_mapping_options, store, company_id)
    if options is None:
        problem = ValidationItem(None, "the company has no Linked accounting connection")
        raise ApiError(400, "Error processing request - not valid.", validation=[problem])
    bank_account = config["bankAccount"]["id"]
    if bank_account not in bank_account_ids(options):
        problem = ValidationItem(
            "bankAccount", f"bank account {bank_account} is not in the company's mapping options"
        )
        raise ApiError(400, "Error processing request - not valid.", validation=[problem])
    saved = await call_on_company(company_id, store.set_expense_config, company_id, config)
    return json_response(saved)
