"""Validated plain data -> the typed model (defaults merged, platform aliases resolved)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from reconcile.model import (
    Customer,
    CustomerState,
    DesiredState,
    ExpenseConfig,
    Location,
    Policy,
    resolve_platform,
)

Locate = Callable[[int], tuple[int, int]]
"""Where customer number i of a file is written (its uid key), 1-based (line, col)."""


def build_state(files: Sequence[tuple[str, Any, Locate]]) -> DesiredState:
    """The model of data that has passed every check; files in the order they were read."""
    owner = ""
    policy = Policy()
    customers: list[Customer] = []
    for file, data, locate in files:
        owner = owner or data["owner"]
        if "policy" in data:  # the cross-file checks made sure every file says the same
            policy = policy_of(data["policy"])
        defaults: dict[str, Any] = data.get("defaults") or {}
        for index, raw in enumerate(data["customers"]):
            line, col = locate(index)
            customers.append(_customer(raw, defaults, Location(file, line, col)))
    return DesiredState(
        owner=owner,
        customers=tuple(customers),
        files=tuple(file for file, _, _ in files),
        policy=policy,
    )


def policy_of(raw: dict[str, Any] | None) -> Policy:
    """`policy:` as written; a key left out keeps its default (`auto: []` allows nothing)."""
    raw = raw or {}
    default = Policy()
    auto = frozenset(raw["auto"]) if "auto" in raw else default.auto
    return Policy(auto=auto, prune=bool(raw.get("prune", default.prune)))


def _customer(raw: dict[str, Any], defaults: dict[str, Any], location: Location) -> Customer:
    def pick(key: str, fallback: Any = None) -> Any:
        return raw[key] if key in raw else defaults.get(key, fallback)

    accounting = pick("accounting")
    platform = resolve_platform(accounting) if accounting is not None else None
    config = raw.get("expenseConfig")
    company_id = raw.get("id")
    return Customer(
        uid=raw["uid"],
        name=raw["name"],
        description=pick("description"),
        tags={**(defaults.get("tags") or {}), **(raw.get("tags") or {})},
        accounting=platform.key if platform is not None else None,
        expenses=bool(pick("expenses", False)),
        expense_config=(
            ExpenseConfig(config["bankAccount"], config["supplier"], config["customer"])
            if config is not None
            else None
        ),
        id=company_id.lower() if company_id is not None else None,
        protect=bool(pick("protect", False)),
        unprotect=pick("protect") is False,
        state=cast(CustomerState, raw.get("state", "present")),
        location=location,
    )
