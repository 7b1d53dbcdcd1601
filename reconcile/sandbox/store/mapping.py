"""Sync for Expenses mapping options: a plausible chart of accounts, tracking categories and tax
rates for a company's accounting platform.

Deterministic per company: a fixed core chart (so documented example ids such as bank account
"89" work everywhere) plus extras, names and currency drawn from a generator seeded by the
company id and platform key.
"""

from __future__ import annotations

import random
from typing import Any, Final, NamedTuple

Wire = dict[str, Any]

_EXPENSE_FOR: Final = [
    "expense-transactions.Payment",
    "expense-transactions.Refund",
    "reimbursable-expense-transactions",
]
_BANK_FOR: Final = [
    "expense-transactions.Payment",
    "expense-transactions.Refund",
    "expense-transactions.Reward",
    "expense-transactions.Chargeback",
    "transfer-transactions",
    "adjustment-transactions",
]


class _Account(NamedTuple):
    """A row of the chart of accounts."""

    id: str
    code: str  # the nominal code
    name: str
    category: str  # fully qualified; its first part is the account type
    is_bank: bool
    core: bool = False  # in every company's chart; the others are drawn per company

    @property
    def type(self) -> str:
        return self.category.partition(".")[0]


_ACCOUNTS: Final = (
    _Account("89", "090", "Business Current Account", "Asset.Current.Bank", True, True),
    _Account("90", "091", "Business Savings Account", "Asset.Current.Bank", True, True),
    _Account("300", "300", "Purchases", "Expense.DirectCosts", False, True),
    _Account("429", "429", "General Expenses", "Expense.Overhead", False, True),
    _Account("493", "493", "Travel - National", "Expense.Overhead", False, True),
    _Account("800", "800", "Accounts Payable", "Liability.Current.AccountsPayable", False, True),
    _Account("400", "400", "Advertising", "Expense.Overhead", False),
    _Account("420", "420", "Entertainment", "Expense.Overhead", False),
    _Account("445", "445", "Light, Power, Heating", "Expense.Overhead", False),
    _Account("461", "461", "Printing & Stationery", "Expense.Overhead", False),
    _Account("489", "489", "Telephone & Internet", "Expense.Overhead", False),
    _Account("494", "494", "Travel - International", "Expense.Overhead", False),
    _Account("610", "610", "Accounts Receivable", "Asset.Current.AccountsReceivable", False),
    _Account("820", "820", "Sales Tax", "Liability.Current.Tax", False),
)
_CORE_ACCOUNTS: Final = tuple(a for a in _ACCOUNTS if a.core)
_EXTRA_ACCOUNTS: Final = tuple(a for a in _ACCOUNTS if not a.core)
_CARD_ISSUERS: Final = ("Amex", "Visa", "Mastercard")
_CURRENCIES: Final = ("GBP", "USD", "EUR", "AUD", "CAD")
_DEPARTMENTS: Final = ("Sales", "Engineering", "Operations", "Marketing", "Finance", "Support")
_TAX_RATES: Final = (
    ("NONE", "No Tax", 0),
    ("INPUT2", "20% (VAT on Expenses)", 20),
    ("INPUT5", "5% (VAT on Expenses)", 5),
    ("EXEMPT", "Exempt Expenses", 0),
)


def _account(account: _Account, currency: str) -> Wire:
    is_bank = account.is_bank
    return {
        "id": account.id,
        "nominalCode": account.code,
        "name": account.name,
        "currency": currency,
        "accountType": account.type,
        "fullyQualifiedCategory": account.category,
        "isBankAccount": is_bank,
        "validTransactionTypes": ["Payment", "Refund", "Reward", "Chargeback"]
        if is_bank
        else ["Payment", "Refund"],
        "validFor": _BANK_FOR if is_bank else _EXPENSE_FOR,
    }


def mapping_options(company_id: str, platform_key: str, expense_provider: str | None) -> Wire:
    rng = random.Random(f"{company_id}:{platform_key}")
    currency = rng.choice(_CURRENCIES)
    card_id = str(rng.randint(1000, 9999))
    entries = [
        *_CORE_ACCOUNTS,
        _Account(
            card_id,
            card_id,
            f"{rng.choice(_CARD_ISSUERS)} Company Card",
            "Liability.Current.CreditCard",
            True,
        ),
        *sorted(rng.sample(_EXTRA_ACCOUNTS, k=rng.randint(2, len(_EXTRA_ACCOUNTS)))),
    ]
    departments = rng.sample(_DEPARTMENTS, k=rng.randint(2, len(_DEPARTMENTS)))
    tracking: list[Wire] = [{"id": "DEPARTMENTS", "name": "Departments", "hasChildren": True}]
    tracking += [
        {"id": f"DEPARTMENT_{i}", "name": name, "hasChildren": False, "parentId": "DEPARTMENTS"}
        for i, name in enumerate(departments, start=1)
    ]
    return {
        "expenseProvider": expense_provider,
        "accounts": [_account(entry, currency) for entry in entries],
        "trackingCategories": tracking,
        "taxRates": [
            {
                "id": rate_id,
                "name": name,
                "code": rate_id,
                "effectiveTaxRate": rate,
                "totalTaxRate": rate,
                "validTransactionTypes": ["Payment", "Refund"],
            }
            for rate_id, name, rate in _TAX_RATES
        ],
    }


def bank_account_ids(options: Wire) -> set[str]:
    return {a["id"] for a in options.get("accounts") or () if a.get("isBankAccount")}
