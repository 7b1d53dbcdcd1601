"""Facts: read what Codat holds for one owner, through the client, into the live model.

A plan costs one request per 5,000 managed companies, plus one per company adopted with `id:`
that is not yet tagged, plus one expense-config read per customer whose config can be applied.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from reconcile.codat import CodatClient, CodatError, CodatHTTPError
from reconcile.codat.answers import parse_company, parse_connection, parse_expense_config
from reconcile.model import (
    OWNER_TAG,
    Company,
    Connection,
    DesiredState,
    ExpenseConfig,
    LiveState,
    Status,
)

CONFIG_READ_CONCURRENCY = 10


def owner_filter(owner: str) -> str:
    return f"{OWNER_TAG}={owner}"


def company_from_wire(body: Mapping[str, Any]) -> Company:
    """Kept for callers of the wire dicts; the checks live in `reconcile.codat.answers`."""
    return parse_company(body, "a company from Codat")


def connection_from_wire(body: Mapping[str, Any]) -> Connection:
    return parse_connection(body, "a connection from Codat")


def config_from_wire(body: Mapping[str, Any] | None) -> ExpenseConfig | None:
    return parse_expense_config(body, "an expense config")


async def read_live(client: CodatClient, desired: DesiredState) -> LiveState:
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
    configs, warnings = await _read_configs(client, desired, companies)
    return LiveState(
        owner=desired.owner,
        companies=tuple(companies),
        expense_configs=configs,
        requests=client.requests_sent - sent_before,
        read_at=read_at,
        warnings=tuple(warnings),
    )


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
        if customer is None or customer.accounting is None:
            continue
        if any(
            conn.is_accounting
            and conn.status == Status.LINKED.value
            and conn.platform is not None
            and conn.platform.key == customer.accounting
            for conn in company.connections
        ):
            due.append(company.id)
    gate = asyncio.Semaphore(CONFIG_READ_CONCURRENCY)

    configs: dict[str, ExpenseConfig | None] = {}
    warnings: list[str] = []

    async def read(company_id: str) -> None:
        async with gate:
            try:
                configs[company_id] = await client.get_expense_config(company_id)
            except CodatError as exc:
                warnings.append(
                    f"could not read the expense config of company {company_id} ({exc}); "
                    "it is left out of this plan"
                )

    await asyncio.gather(*(read(cid) for cid in due))
    return configs, sorted(warnings)
