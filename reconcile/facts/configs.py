"""Expense configs and mapping options: read only where the planner could act on them, one
request per company, `CONFIG_READ_CONCURRENCY` at a time; one unreadable answer leaves that part
out of the plan, with a warning."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from reconcile.codat import CodatClient, CodatError
from reconcile.model import (
    Company,
    Customer,
    DesiredState,
    ExpenseConfig,
    MappingOption,
    MappingOptions,
    Status,
)

CONFIG_READ_CONCURRENCY = 10
T = TypeVar("T")


async def read_mapping_options(
    client: CodatClient,
    desired: DesiredState,
    companies: list[Company],
    configs: Mapping[str, ExpenseConfig | None],
) -> tuple[dict[str, MappingOptions], list[str]]:
    """Mapping options only for companies whose expense config would change, so the plan can
    refuse ids the company does not have. An unreadable one leaves that config out, warned."""
    wanted = {c.uid: c for c in desired.customers if c.expense_config is not None}
    adopted = {c.id: c for c in wanted.values() if c.id}
    due = []
    for company in companies:
        customer = adopted.get(company.id) or wanted.get(company.uid or "")
        if customer is None or company.id not in configs:
            continue
        if configs[company.id] != customer.expense_config:
            due.append(company.id)
    by_id = {c.id: c for c in companies}

    async def read(company_id: str) -> MappingOptions:
        company = by_id[company_id]
        customer = adopted.get(company_id) or wanted[company.uid or ""]
        return await _read_options(client, company_id, customer, configs[company_id])

    return await _read_each(due, read, "mapping options", "its expense config is left out")


async def _read_options(
    client: CodatClient, company_id: str, customer: Customer, live: ExpenseConfig | None
) -> MappingOptions:
    """The mapping options, and the supplier and customer the config would change to: one read
    each, only for an id that differs from the live config's (an unchanged one stands)."""
    wanted = customer.expense_config
    assert wanted is not None
    options = await client.get_mapping_options(company_id)
    named = dict(wanted.names)

    async def check(
        field: str,
        wanted_id: str,
        live_id: str | None,
        read: Callable[[str, str], Awaitable[MappingOption | None]],
    ) -> tuple[MappingOption, ...]:
        if field in named:  # `{name: ...}`: every record, for the planner to resolve the name
            return await client.list_records(company_id, field)
        if wanted_id == live_id:
            return (MappingOption(wanted_id, ""),)
        found = await read(company_id, wanted_id)
        return () if found is None else (found,)

    suppliers = await check(
        "supplier", wanted.supplier, live.supplier if live else None, client.get_supplier
    )
    customers = await check(
        "customer", wanted.customer, live.customer if live else None, client.get_customer
    )
    return replace(options, suppliers=suppliers, customers=customers)


# A resync's choice of the configs read fresh: given the listing and the companies whose config
# can be applied (`due`), the ids to read now and the configs known from earlier reads for the
# rest (the watch: `reconcile.watch.resync`). A company in neither is left out of the plan.
ConfigChoice = Callable[
    [Sequence[Company], Sequence[str]],
    tuple[Collection[str], Mapping[str, ExpenseConfig | None]],
]


def configs_due(desired: DesiredState, companies: Sequence[Company]) -> list[str]:
    """The companies whose expense config the planner could act on (accounting Linked)."""
    wanted = {c.uid: c for c in desired.customers if c.expense_config is not None}
    adopted = {c.id: c for c in wanted.values() if c.id}
    due: list[str] = []
    for company in companies:
        customer = adopted.get(company.id) or wanted.get(company.uid or "")
        if customer is None or (customer.accounting is None and not customer.keep_accounting):
            continue
        if any(
            conn.is_accounting
            and conn.status == Status.LINKED.value
            and conn.platform is not None
            and (customer.keep_accounting or conn.platform.key == customer.accounting)
            for conn in company.connections
        ):
            due.append(company.id)
    return due


async def read_configs(
    client: CodatClient,
    desired: DesiredState,
    companies: list[Company],
    choose: ConfigChoice | None = None,
) -> tuple[dict[str, ExpenseConfig | None], list[str]]:
    """Expense configs only where the planner could act on them (accounting Linked); with
    `choose`, only those it picks (the others as it knows them).

    One unreadable config does not stop the plan: it is left out, with a warning.
    """
    due = configs_due(desired, companies)
    if choose is None:
        return await _read_each(due, client.get_expense_config, "expense config", "it is left out")
    fresh, known = choose(companies, due)
    read, warnings = await _read_each(
        [cid for cid in due if cid in fresh],
        client.get_expense_config,
        "expense config",
        "it is left out",
    )
    kept = {cid: known[cid] for cid in due if cid not in read and cid in known}
    return {**kept, **read}, warnings


async def _read_each(
    company_ids: list[str], read: Callable[[str], Awaitable[T]], what: str, consequence: str
) -> tuple[dict[str, T], list[str]]:
    """One read per company, CONFIG_READ_CONCURRENCY at a time. One unreadable answer does
    not stop the plan: that part is left out, with a warning that says so."""
    gate = asyncio.Semaphore(CONFIG_READ_CONCURRENCY)
    found: dict[str, T] = {}
    warnings: list[str] = []

    async def one(company_id: str) -> None:
        async with gate:
            try:
                found[company_id] = await read(company_id)
            except CodatError as exc:
                warnings.append(
                    f"could not read the {what} of company {company_id} ({exc}); "
                    f"{consequence} of this plan"
                )

    await asyncio.gather(*(one(cid) for cid in company_ids))
    return found, sorted(warnings)
