"""What `reconcile export` writes a file from: the owner's companies (the whole account with
`--adopt`), then the expense config of each company it exports whose accounting is Linked."""

from __future__ import annotations

import asyncio

from reconcile.codat import CodatClient, CodatError, QuotaExhausted
from reconcile.escape import text
from reconcile.export import Selection, select
from reconcile.export_notes import CONFIG, Entry
from reconcile.model import OWNER_TAG, ExpenseConfig

CONFIG_READ_CONCURRENCY = 10


async def read_for_export(
    client: CodatClient, owner: str, *, adopt: bool
) -> tuple[Selection, dict[str, ExpenseConfig | None]]:
    companies = await client.list_companies(None if adopt else f"{OWNER_TAG}={owner}")
    selection = select(owner, companies, adopt=adopt)
    gate = asyncio.Semaphore(CONFIG_READ_CONCURRENCY)
    configs: dict[str, ExpenseConfig | None] = {}

    async def read(entry: Entry) -> None:
        async with gate:
            try:
                configs[entry.company.id] = await client.get_expense_config(entry.company.id)
            except QuotaExhausted:
                raise  # nothing more can be read today: the export stops, saying when
            except CodatError as exc:
                # One unreadable config does not sink the export: the customer is written
                # without it (plan then changes nothing: a config is never cleared).
                entry.note(
                    CONFIG,
                    f"the expense config could not be read ({text(exc)}); not written: "
                    "export again to include it",
                )

    await asyncio.gather(*(read(e) for e in selection.entries if e.config_due))
    return selection, configs
