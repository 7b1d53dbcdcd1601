"""The account's settings as Codat holds them: `GET /profile/syncSettings` and `GET /webhooks`
(two requests), read only where an environment's `settings:` names something."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconcile import paths
from reconcile.codat import CodatClient
from reconcile.model import AccountSettings, ConsumerWanted, SyncWanted
from reconcile.planner.settings import LiveConsumer
from reconcile.plans.settings import SettingsChange


async def read_account_settings(
    client: CodatClient, wanted: AccountSettings
) -> tuple[dict[str, Any], tuple[LiveConsumer, ...]]:
    sync: dict[str, Any] = {}
    if wanted.sync:
        body = await client.request_json("GET", paths.sync_settings())
        sync = dict(body) if isinstance(body, dict) else {}
    consumers: tuple[LiveConsumer, ...] = ()
    if wanted.consumer is not None:
        consumers = tuple(
            LiveConsumer(c.id, c.url, c.event_types, c.company_tags)
            for c in await client.list_webhook_consumers()
        )
    return sync, consumers


async def read_settings_again(
    client: CodatClient, changes: Sequence[SettingsChange]
) -> tuple[dict[str, Any], tuple[LiveConsumer, ...]]:
    """What a saved plan's settings changes depend on, read again before apply (one request
    per kind of change it holds)."""
    kinds = {c.kind for c in changes}
    wanted = AccountSettings(
        sync=(SyncWanted("-"),) if "sync_settings" in kinds else (),
        consumer=ConsumerWanted("-", ()) if "webhook_consumer" in kinds else None,
    )
    return await read_account_settings(client, wanted)
