"""What a saved plan acts on, read again before it is applied (the plan run's own read is what
it saw when it was made)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconcile.codat import CodatHTTPError
from reconcile.facts.fleet import owner_filter
from reconcile.model import Company, ExpenseConfig

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.plans import Plan
    from reconcile.plans.file.staleness import Live


async def read_companies(
    client: CodatClient, owner: str, ids: Sequence[str]
) -> tuple[list[Company], list[str]]:
    """The owner's companies (one list read by the owner tag) plus those of `ids` the list
    does not hold (adopted, not tagged yet), and the ids Codat no longer has (404)."""
    companies = list(await client.list_companies(tags=owner_filter(owner)))
    listed = {c.id for c in companies}
    gone: list[str] = []
    for cid in ids:
        if cid in listed:
            continue
        try:
            companies.append(await client.get_company(cid))
        except CodatHTTPError as exc:
            if exc.status != 404:
                raise
            gone.append(cid)
    return companies, gone


async def read_configs(
    client: CodatClient, ids: Sequence[str], gone: Sequence[str] = ()
) -> dict[str, ExpenseConfig | None]:
    """The expense config of each company of `ids` still there (one request each)."""
    configs: dict[str, ExpenseConfig | None] = {}
    for cid in ids:
        if cid in gone:
            continue
        try:
            configs[cid] = await client.get_expense_config(cid)
        except CodatHTTPError as exc:
            if exc.status != 404:
                raise
    return configs


async def read_for_staleness(client: CodatClient, plan: Plan) -> tuple[Live, str]:
    """Codat now, for what a saved plan acts on (`reconcile.plans.file.staleness.Live`), and
    Codat's clock at the read of the companies (a second back)."""
    from reconcile.facts.fleet import read_time
    from reconcile.plans.file import configured, touched
    from reconcile.plans.file.staleness import Live

    companies, gone = await read_companies(client, plan.owner, touched(plan))
    read_at = read_time(client)
    configs = await read_configs(client, configured(plan), gone)
    return Live(tuple(companies), frozenset(gone), configs), read_at
