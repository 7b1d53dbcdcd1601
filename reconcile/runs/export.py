"""The export run: read the owner's companies (`reconcile.facts.export`) and write the file's
text (`reconcile.export`), read-only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconcile.export_notes import Warned
    from reconcile.model import DesiredState
    from reconcile.runs.connect import Where


@dataclass(frozen=True)
class ExportRun:
    text: str  # the desired-state file
    warnings: list[Warned]  # each with its kind (`summary_by_kind` counts them)
    customers: int
    requests: int


async def export(
    where: Where, owner: str, *, adopt: bool, desired: DesiredState | None = None
) -> ExportRun:
    """`desired`: the files that declare the environment to read (its key and account)."""
    from reconcile.export import export_text
    from reconcile.facts.export import read_for_export
    from reconcile.runs.connect import open_client

    async with open_client(where, read_only=True, desired=desired) as client:
        selection, configs = await read_for_export(client, owner, adopt=adopt)
        text, warnings = export_text(owner, selection, configs, adopt=adopt)
        return ExportRun(text, warnings, len(selection.entries), client.requests_sent)
