"""The expense config: desired (the file's `expenseConfig`) and live (Codat's) alike.

Its own module: the client reads and writes configs without the desired model's classes (a
plan builds those while Codat answers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExpenseConfig:
    """The Sync for Expenses company configuration: ids in the accounting platform. A desired
    config may name a record instead (`supplier: {name: "Amex"}`): `names` holds (wire field,
    name) for those, whose id is "" until the planner resolves it (`resolved`)."""

    bank_account: str
    supplier: str
    customer: str
    names: tuple[tuple[str, str], ...] = ()

    def resolved(self, ids: Mapping[str, str]) -> ExpenseConfig:
        """This config with the named fields' ids filled in (wire field -> id) and no names."""
        return ExpenseConfig(
            ids.get("bankAccount", self.bank_account),
            ids.get("supplier", self.supplier),
            ids.get("customer", self.customer),
        )

    def to_wire(self) -> dict[str, dict[str, str]]:
        return {
            "bankAccount": {"id": self.bank_account},
            "supplier": {"id": self.supplier},
            "customer": {"id": self.customer},
        }
