"""What a saved plan acts on, read again before it is applied (the plan run's own read is what
it saw when it was made)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconcile.codat import CodatHTTPError
from reconcile.facts.fleet import read_owned
from reconcile.model import ExpenseConfig, LiveState

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.plans import Plan


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


async def read_for_staleness(client: CodatClient, plan: Plan) -> tuple[LiveState, str]:
    """Codat now, for what a saved plan acts on (what `reconcile.plans.file.staleness` judges):
    the owner's companies and those the plan names by id, the ids answered 404 (`gone`), the
    expense configs it sets; and Codat's clock at the read of the companies (a second back)."""
    from reconcile.plans.file import configured, touched

    sent_before = client.requests_sent
    companies, gone, read_at = await read_owned(client, plan.owner, touched(plan))
    configs = await read_configs(client, configured(plan), gone)
    live = LiveState(
        plan.owner,
        tuple(companies),
        configs,
        requests=client.requests_sent - sent_before,
        read_at=read_at,
        gone=frozenset(gone),
    )
    return live, read_at
