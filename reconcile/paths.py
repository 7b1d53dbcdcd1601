"""Codat API paths, built in one place with every id percent-quoted as one path segment.

Pure (no httpx): the planner builds request paths with it, the client reads with it. An id that
is not a UUID is refused where answers are checked (`reconcile.codat.answers`); quoting here is
the second wall, so that even a hostile id can never leave its segment.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _below_company(suffix: str) -> Callable[[str], str]:
    """The path `suffix` below one company: `(company_id) -> path`."""

    def path(company_id: str) -> str:
        return company(company_id) + suffix

    return path


def _record_below_company(suffix: str) -> Callable[[str, str], str]:
    """One record of the collection `suffix` below one company: `(company_id, id) -> path`."""

    def path(company_id: str, record_id: str) -> str:
        return f"{company(company_id)}{suffix}/{segment(record_id)}"

    return path


# Every path below one company, by what it names.
connections = _below_company("/connections")
connection = _record_below_company("/connections")
partner_expense = _below_company("/sync/expenses/connections/partnerExpense")
expense_config = _below_company("/sync/expenses/config")
mapping_options = _below_company("/sync/expenses/mappingOptions")
supplier = _record_below_company("/data/suppliers")
customer = _record_below_company("/data/customers")
data_status = _below_company("/dataStatus")
refresh_data = _below_company("/data/all")


def data_history(company_id: str) -> str:
    """The company's pull operations (every refresh Codat recorded)."""
    return f"{company(company_id)}/data/history"


def sync_settings() -> str:
    return "/profile/syncSettings"
