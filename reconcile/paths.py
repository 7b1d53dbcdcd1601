"""Codat API paths, built in one place with every id percent-quoted as one path segment.

Pure (no httpx): the planner builds request paths with it, the client reads with it. An id that
is not a UUID is refused where answers are checked (`reconcile.codat.answers`); quoting here is
the second wall, so that even a hostile id can never leave its segment.
"""

from __future__ import annotations

from urllib.parse import quote

# `{companyId}` in a planned path stands for the id of a company the same plan creates.
COMPANY_PLACEHOLDER = "{companyId}"


def segment(value: str) -> str:
    """One path segment: `/`, `?`, `#`, `%`, `..` and everything else unsafe is quoted."""
    if value == COMPANY_PLACEHOLDER:
        return value
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def profile() -> str:
    return "/profile"


def webhooks() -> str:
    return "/webhooks"


def webhook(consumer_id: str) -> str:
    return f"{webhooks()}/{segment(consumer_id)}"


def companies() -> str:
    return "/companies"


def company(company_id: str) -> str:
    return f"/companies/{segment(company_id)}"


def connections(company_id: str) -> str:
    return f"{company(company_id)}/connections"


def connection(company_id: str, connection_id: str) -> str:
    return f"{connections(company_id)}/{segment(connection_id)}"


def partner_expense(company_id: str) -> str:
    return f"{company(company_id)}/sync/expenses/connections/partnerExpense"


def expense_config(company_id: str) -> str:
    return f"{company(company_id)}/sync/expenses/config"


def mapping_options(company_id: str) -> str:
    return f"{company(company_id)}/sync/expenses/mappingOptions"


def supplier(company_id: str, supplier_id: str) -> str:
    return f"{company(company_id)}/data/suppliers/{segment(supplier_id)}"


def customer(company_id: str, customer_id: str) -> str:
    return f"{company(company_id)}/data/customers/{segment(customer_id)}"


def data_status(company_id: str) -> str:
    return f"{company(company_id)}/dataStatus"


def refresh_data(company_id: str) -> str:
    return f"{company(company_id)}/data/all"


def data_history(company_id: str) -> str:
    """The company's pull operations (every refresh Codat recorded)."""
    return f"{company(company_id)}/data/history"


def sync_settings() -> str:
    return "/profile/syncSettings"
