"""What a saved plan reads of Codat, when it is made and again before it is applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconcile.codat import CodatHTTPError
from reconcile.live import owner_filter
from reconcile.model import Company, ExpenseConfig

if TYPE_CHECKING:
    from reconcile.codat import CodatClient


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
