"""The account's settings as code in `plan` and `apply`: read and diff (two requests, only when
the run's environment names settings). The settings come from the environment, a trusted
setting: under `--base` from the base files only."""

from __future__ import annotations

from reconcile.codat import CodatClient
from reconcile.model import DesiredState
from reconcile.planner.settings import settings_changes
from reconcile.plans.settings import SettingsChange


async def planned_settings(
    client: CodatClient, desired: DesiredState
) -> tuple[SettingsChange, ...]:
    env = desired.environments.get(desired.environment or "")
    if env is None or env.settings is None:
        return ()
    from reconcile.facts.settings import read_account_settings

    sync, consumers = await read_account_settings(client, env.settings)
    return settings_changes(env.settings, sync, consumers)
