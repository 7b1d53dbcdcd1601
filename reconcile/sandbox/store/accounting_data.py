"""Suppliers and customers a company's accounting platform holds, as Codat serves them from its
data cache (`/companies/{companyId}/data/suppliers`, `.../customers`).

Deterministic per company: a fixed core (suppliers "120"-"129", customers "140"-"149", so
documented example ids such as supplier "124" and customer "140" work everywhere, and `sandbox
seed` configs name them) plus extras, names and currency drawn from a generator seeded by the
company id and platform key, like the mapping options (`reconcile.sandbox.store.mapping`).
"""

from __future__ import annotations

import random
from typing import Any, Final

Wire = dict[str, Any]

CORE_SUPPLIER_IDS: Final = tuple(str(n) for n in range(120, 130))
CORE_CUSTOMER_IDS: Final = tuple(str(n) for n in range(140, 150))
# When the data cache was last refreshed, for every record (the sandbox's data never changes).
MODIFIED: Final = "2026-01-05T09:30:00Z"
_SUPPLIER_NAMES: Final = (
    "Office Supplies Ltd",
    "Northwind Travel",
    "Contoso Couriers",
    "Fabrikam Software",
    "Blue Sun Energy",
    "Kwik Catering",
    "Prestige Hotels",
    "Aperture Print",
    "Wayne Telecom",
    "Monarch Fuel",
    "Sterling Legal",
    "Vandelay Freight",
)
_CUSTOMER_NAMES: Final = (
    "Card Spend Clearing",
    "Employee Reimbursements",
    "Acme Retail",
    "Globex Services",
    "Initech Holdings",
    "Hooli Europe",
    "Stark Industries",
    "Tyrell Trading",
    "Soylent Wholesale",
    "Oscorp Labs",
)
_CURRENCIES: Final = ("GBP", "USD", "EUR", "AUD", "CAD")


def _records(
    company_id: str, platform_key: str, kind: str, core: tuple[str, ...], names: tuple[str, ...]
) -> list[tuple[str, str, str]]:
    """(id, name, currency) for the core and the company's extras, ids in ascending order."""
    rng = random.Random(f"{company_id}:{platform_key}:{kind}")
    currency = rng.choice(_CURRENCIES)
    extras = rng.sample(range(1000, 10000), k=rng.randint(2, 8))
    ids = [*core, *(str(n) for n in sorted(extras))]
    return [(i, names[n % len(names)], currency) for n, i in enumerate(ids)]


def _party(kind: str, record: tuple[str, str, str]) -> Wire:
    """A `kind` ("supplier" or "customer") record as Codat's accounting data serves it; a
    customer also has `contacts`."""
    party_id, name, currency = record
    wire: Wire = {
        "id": party_id,
        f"{kind}Name": name,
        "contactName": None,
        "emailAddress": None,
        "phone": None,
        "addresses": [],
    }
    if kind == "customer":
        wire["contacts"] = []
    wire.update(
        status="Active",
        defaultCurrency=currency,
        modifiedDate=MODIFIED,
        sourceModifiedDate=MODIFIED,
        metadata={"isDeleted": False},
    )
    return wire


def suppliers(company_id: str, platform_key: str) -> list[Wire]:
    records = _records(company_id, platform_key, "suppliers", CORE_SUPPLIER_IDS, _SUPPLIER_NAMES)
    return [_party("supplier", r) for r in records]


def customers(company_id: str, platform_key: str) -> list[Wire]:
    records = _records(company_id, platform_key, "customers", CORE_CUSTOMER_IDS, _CUSTOMER_NAMES)
    return [_party("customer", r) for r in records]
