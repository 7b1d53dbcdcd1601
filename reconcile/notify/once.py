"""The notifier in a CI run (`converge` or `audit --notify FILE`): record what the run saw, send
what is due once.
What does not land stays queued in the state file for the next run (keep it between runs, e.g.
as a CI cache, or each run tells every state again)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from reconcile.notify.config import NotifyConfig
from reconcile.notify.notifier import Notifier
from reconcile.notify.states import snapshot_of
from reconcile.notify.store import NotifyStore

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.converge import PassResult
    from reconcile.model import DesiredState, LiveState


async def notify_once(
    config: NotifyConfig,
    store: NotifyStore,
    client: CodatClient,
    desired: DesiredState,
    result: PassResult,
    log: Callable[[str], None],
) -> int:
    """Record the pass and send what is due; returns how many messages landed."""
    from reconcile.facts.links import LinkReader

    async with httpx.AsyncClient() as http:
        notifier = Notifier(config, store, http, LinkReader(client), log=log)
        notifier.record(snapshot_of(result, desired))
        return await notifier.flush()


def read_only_pass(desired: DesiredState, live: LiveState, now: datetime) -> PassResult:
    """What an audit saw, as a pass that wrote nothing (the planner and the classification are
    pure: the audit's own read is all they need)."""
    from reconcile.converge import PassResult
    from reconcile.converge.classify import classify
    from reconcile.planner import make_plan

    plan = make_plan(desired, live)
    classified = classify(plan, desired.policy, companies=live.companies, now=now)
    return PassResult(plan=plan, classified=classified, live=live, read_at=now)
