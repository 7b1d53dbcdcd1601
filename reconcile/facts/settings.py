"""The account's settings as Codat holds them: `GET /profile/syncSettings` and `GET /webhooks`
(two requests), read only where an environment's `settings:` names something, or where a saved
plan's settings' changes depend on them (read again before apply)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconcile import paths
from reconcile.codat import CodatClient
from reconcile.model import AccountSettings
from reconcile.planner.settings import LiveConsumer
from reconcile.plans.settings import SettingsChange


async def read_settings(
    client: CodatClient, *, sync: bool, consumers: bool
) -> tuple[dict[str, Any], tuple[LiveConsumer, ...]]:
    """The account's sync settings (when `sync`; else empty) and webhook consumers (when
    `consumers`; else none): a request each."""
    found: dict[str, Any] = {}
    if sync:
        body = await client.request_json("GET", paths.sync_settings())
        found = dict(body) if isinstance(body, dict) else {}
    listed: tuple[LiveConsumer, ...] = ()
    if consumers:
        listed = tuple(
            LiveConsumer(c.id, c.url, c.event_types, c.company_tags)
            for c in await client.list_webhook_consumers()
        )
    return found, listed


async def read_account_settings(
    client: CodatClient, wanted: AccountSettings
) -> tuple[dict[str, Any], tuple[LiveConsumer, ...]]:
    """What an environment's `settings:` names, as the account holds it."""
    return await read_settings(
        client, sync=bool(wanted.sync), consumers=wanted.consumer is not None
    )


async def read_settings_again(
    client: CodatClient, changes: Sequence[SettingsChange]
) -> tuple[dict[str, Any], tuple[LiveConsumer, ...]]:
    """What a saved plan's settings changes depend on, read again before apply (one request
    per kind of change it holds)."""
    kinds = {c.kind for c in changes}
    return await read_settings(
        client, sync="sync_settings" in kinds, consumers="webhook_consumer" in kinds
    )
