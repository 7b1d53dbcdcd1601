"""Writes the account settings' changes (`reconcile.planner.settings`), in order. A consumer
is replaced by a delete, then a create (Codat takes no idempotency key on `/webhooks`: a run
that fails between them leaves it missing, and the next plan creates it)."""

from __future__ import annotations

from collections.abc import Sequence

from reconcile.codat import CodatClient
from reconcile.plans.settings import SettingsChange


async def apply_settings(client: CodatClient, changes: Sequence[SettingsChange]) -> None:
    for change in changes:
        for request in change.requests:
            if request.method == "DELETE":
                await client.request("DELETE", request.path)
            else:
                await client.request_json(request.method, request.path, json=request.body)
