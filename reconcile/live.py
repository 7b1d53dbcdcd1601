"""Facts: read what Codat holds for one owner, through the client, into the live model.

A plan costs one request per 5,000 managed companies, plus one per company adopted with `id:`
that is not yet tagged, plus one expense-config read per customer whose config can be applied,
plus one mapping-options read per company whose config would change, with one supplier and one
customer read by id where the config would change that id. Before the plan creates
companies it looks for any company already carrying their `reconcile.uid` (see
`read_uid_holders`); in steady state (no creates) that costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from reconcile import paths
from reconcile.codat import CodatClient, CodatError, CodatHTTPError
from reconcile.codat.answers import (
    parse_company,
    parse_connection,
    parse_expense_config,
    parse_page,
)
from reconcile.codat.client import MAX_PAGE_SIZE
from reconcile.codat.paging import read_all
from reconcile.model import (
    OWNER_TAG,
    UID_TAG,
    Company,
    Connection,
    Customer,
    DesiredState,
    ExpenseConfig,
    LiveState,
    MappingOption,
    MappingOptions,
    Status,
)

CONFIG_READ_CONCURRENCY = 10
T = TypeVar("T")


def owner_filter(owner: str) -> str:
    return f"{OWNER_TAG}={owner}"


def company_from_wire(body: Mapping[str, Any]) -> Company:
    """Kept for callers of the wire dicts; the checks live in `reconcile.codat.answers`."""
    return parse_company(body, "a company from Codat")


def connection_from_wire(body: Mapping[str, Any]) -> Connection:
    return parse_connection(body, "a connection from Codat")


def config_from_wire(body: Mapping[str, Any] | None) -> ExpenseConfig | None:
    return parse_expense_config(body, "an expense config")


async def read_live(
    client: CodatClient, desired: DesiredState, targets: frozenset[str] = frozenset()
) -> LiveState:
    """Everything the planner needs for `desired` (only the `targets` uids when given)."""
    sent_before = client.requests_sent
    companies = await client.list_companies(tags=owner_filter(desired.owner))
    server_time = client.server_time or datetime.now(UTC)
    # The Date header has whole seconds: step back one so "before the read" stays true.
    read_at = (server_time - timedelta(seconds=1)).isoformat()
    known = {c.id for c in companies}
    for customer in desired.customers:
        if customer.id and customer.id not in known:
            try:
                companies.append(await client.get_company(customer.id))
                known.add(customer.id)
            except CodatHTTPError as exc:
                if exc.status != 404:
                    raise
    managed_uids = {c.uid for c in companies if c.owner == desired.owner and c.uid}
    creates = sorted(
        c.uid
        for c in desired.customers
        if c.state == "present"
        and c.id is None
        and c.uid not in managed_uids
        and (not targets or c.uid in targets)
    )
    holders = await read_uid_holders(client, desired.owner, creates, len(companies))
    configs, warnings = await _read_configs(client, desired, companies)
    options, option_warnings = await _read_mapping_options(client, desired, companies, configs)
    reset = client.rate_limit_reset
    return LiveState(
        owner=desired.owner,
        companies=tuple(companies),
        expense_configs=configs,
        requests=client.requests_sent - sent_before,
        read_at=read_at,
        warnings=tuple(warnings + option_warnings),
        uid_holders=holders,
        mapping_options=options,
        rate_limit_remaining=client.rate_limit_remaining,
        rate_limit_limit=client.rate_limit_limit,
        rate_limit_reset=reset.isoformat() if reset else None,
    )


async def read_uid_holders(
    client: CodatClient, owner: str, uids: list[str], known: int
) -> dict[str, tuple[Company, ...]]:
    """Companies outside `owner`'s tag that carry one of `uids` as `reconcile.uid`.

    Reads count against Codat's daily quota, so this takes the cheaper of two ways: one
    filtered read per uid (`tags=reconcile.uid=U`) when the uids are few, or one paged read of
    every company in the account (5,000 a page) when they are many. `known` (companies already
    read) is a lower bound of the account's size; when that cannot decide, the first page of
    the whole account is read and tells its size, and the rest goes the cheaper way: at most
    one request more than the cheaper of the two.
    """
    if not uids:
        return {}
    if len(uids) <= max(1, _pages(known)):
        return await _filtered(client, owner, uids)
    first = await client.request_json(
        "GET", paths.companies(), params={"page": 1, "pageSize": MAX_PAGE_SIZE}
    )
    _, total = parse_page(first, "GET /companies")
    if len(uids) <= _pages(total) - 1:
        return await _filtered(client, owner, uids)
    pages: dict[int, object] = {1: first}

    async def fetch(page: int) -> object:
        if page in pages:
            return pages.pop(page)
        return await client.request_json(
            "GET", paths.companies(), params={"page": page, "pageSize": MAX_PAGE_SIZE}
        )

    wanted = set(uids)
    found: dict[str, list[Company]] = {}
    limit = client.settings.max_listed_companies
    for company in await read_all(fetch, MAX_PAGE_SIZE, max_companies=limit):
        if company.uid in wanted and company.owner != owner:
            found.setdefault(company.uid, []).append(company)
    return {uid: tuple(c) for uid, c in found.items()}


def _pages(companies: int) -> int:
    return -(-companies // MAX_PAGE_SIZE)


async def _filtered(
    client: CodatClient, owner: str, uids: list[str]
) -> dict[str, tuple[Company, ...]]:
    found: dict[str, tuple[Company, ...]] = {}
    for uid in uids:
        holders = tuple(
            company
            for company in await client.list_companies(tags=f"{UID_TAG}={uid}")
            if company.uid == uid and company.owner != owner
        )
        if holders:
            found[uid] = holders
    return found


async def _read_mapping_options(
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


async def _read_configs(
    client: CodatClient, desired: DesiredState, companies: list[Company]
) -> tuple[dict[str, ExpenseConfig | None], list[str]]:
    """Expense configs only where the planner could act on them (accounting Linked).

    One unreadable config does not stop the plan: it is left out, with a warning.
    """
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
    return await _read_each(due, client.get_expense_config, "expense config", "it is left out")


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
