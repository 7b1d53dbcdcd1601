"""The account's settings as code in `plan`, `apply`, `audit` and the watch's `--register`: read
(`reconcile.facts.settings`, two requests, only when the run's environment names settings) and
diffed (`reconcile.planner.settings`). The settings come from the environment, a trusted
setting: under `--base` from the base files only."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.model import DesiredState
    from reconcile.plans.settings import SettingsChange


async def planned_settings(
    client: CodatClient, desired: DesiredState
) -> tuple[SettingsChange, ...]:
    """What applying would change in the account's settings (nothing without `settings:`)."""
    env = desired.environments.get(desired.environment or "")
    if env is None or env.settings is None:
        return ()
    from reconcile.facts.settings import read_account_settings
    from reconcile.planner.settings import settings_changes

    sync, consumers = await read_account_settings(client, env.settings)
    return settings_changes(env.settings, sync, consumers)
