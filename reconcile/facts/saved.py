"""What a saved plan acts on, read again before it is applied (the plan run's own read is what
it saw when it was made)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconcile.codat import CodatHTTPError
from reconcile.facts.fleet import read_owned
from reconcile.model import ExpenseConfig

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.plans import Plan
    from reconcile.plans.file.staleness import Live


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
    from reconcile.plans.file import configured, touched
    from reconcile.plans.file.staleness import Live

    companies, gone, read_at = await read_owned(client, plan.owner, touched(plan))
    configs = await read_configs(client, configured(plan), gone)
    return Live(tuple(companies), frozenset(gone), configs), read_at
