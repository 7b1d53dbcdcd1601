"""The supplier and customer an expense config names, checked against the company's data.

Codat's mapping options list no suppliers or customers; the live read looks each changed id up
by itself (`GET /companies/{id}/data/suppliers/{supplierId}`, `.../customers/{customerId}`) and
puts those found in `MappingOptions.suppliers` / `.customers` (None: not checked). Pure.
"""

from __future__ import annotations

from reconcile import paths
from reconcile.model import ExpenseConfig, MappingOption, MappingOptions


def _absent(wanted_id: str, found: tuple[MappingOption, ...] | None) -> bool:
    return found is not None and all(o.id != wanted_id for o in found)


def missing_records(
    wanted: ExpenseConfig, options: MappingOptions, company_id: str, platform_name: str
) -> str | None:
    """Why the config cannot be written (the ids Codat does not have, and how to find valid
    ones), or None when every checked id exists."""
    missing = [
        (kind, wanted_id)
        for kind, wanted_id, found in (
            ("supplier", wanted.supplier, options.suppliers),
            ("customer", wanted.customer, options.customers),
        )
        if _absent(wanted_id, found)
    ]
    if not missing:
        return None
    what = " and ".join(f"{kind} {wanted_id}" for kind, wanted_id in missing)
    lists = " and ".join(f"GET {paths.company(company_id)}/data/{kind}s" for kind, _ in missing)
    return (
        f"{what} {'is' if len(missing) == 1 else 'are'} not in this company's {platform_name} "
        f"data (Codat answered 404); find valid ids with {lists} (or the company's data in the "
        "Codat portal); one added in the platform just now appears after Codat refreshes the "
        "company's data"
    )
