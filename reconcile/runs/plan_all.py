"""`plan --env all`: every environment's plan summed up, read-only.

Each environment is planned with its own key, after its account is confirmed, with its
account settings' changes (counted in its row); nothing is
written anywhere (the read-only client refuses writes) and nothing is saved. An environment
that cannot be planned (no key, the wrong account, Codat down) gets its row with the error in
it; the others are still planned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.runs.connect import Where
    from reconcile.runs.plan import OnRead


@dataclass(frozen=True)
class Row:
    env: str
    account: str
    customers: int
    summary: dict[str, int]
    refused: int
    unsafe: str | None
    differs: bool
    error: str | None = None  # the environment could not be planned: why
    settings: int = 0  # the account settings' changes (environments.ENV.settings)


async def plan_every_environment(
    desired: DesiredState,
    where: Where,
    options: PlanOptions,
    *,
    on_env: Callable[[DesiredState], None] | None = None,
    on_read: OnRead | None = None,
) -> list[Row]:
    """Each environment's plan, in promotion order (`on_env` hears each one before it is
    read)."""
    from reconcile.codat.errors import CodatError
    from reconcile.environments import for_environment, names
    from reconcile.runs.connect import open_client
    from reconcile.runs.errors import RunError
    from reconcile.runs.plan import plan_run, with_settings

    rows = []
    for env in names(desired):
        resolved = for_environment(desired, env)
        if on_env is not None:
            on_env(resolved)
        account = resolved.environments[env].account
        try:
            async with open_client(where, read_only=True, desired=resolved) as client:
                made = await plan_run(client, resolved, options, on_read=on_read)
                plan = (await with_settings(client, made, options)).plan
        except (CodatError, RunError) as exc:
            rows.append(Row(env, account, len(resolved.customers), {}, 0, None, False, str(exc)))
            continue
        rows.append(
            Row(
                env,
                account,
                len(resolved.customers),
                dict(plan.summary()),
                len(plan.refused),
                plan.unsafe,
                plan.has_changes or bool(plan.refused) or bool(plan.unsafe) or bool(plan.settings),
                settings=len(plan.settings),
            )
        )
    return rows
