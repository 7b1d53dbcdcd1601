"""`audit --health`'s reads: the account's sync schedules, then each Linked managed customer's
health facts (`reconcile.facts.health`), assessed (`reconcile.health.assess`). With `policy.auto:
[refresh_data]`, the customers a refresh may save go into the live state, so the audit's plan
shows their refresh as a follow-up, exactly as converge would plan it: each checked against the
company's pull history (a refresh within `policy.refreshDataEvery` holds it), and those held
noted with why."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from reconcile.facts.health import (
    hold_recent_refreshes,
    linked_accounting,
    read_health,
    read_sync_schedules,
)
from reconcile.facts.snapshot import AuditRead, SnapshotClient
from reconcile.health import (
    DEFAULT_AT_RISK_AFTER,
    HealthOptions,
    assess,
    refresh_due,
    refresh_held,
)
from reconcile.health.model import Health
from reconcile.model import AUTO_REFRESH_DATA, DesiredState


async def read_audit_health(
    client: SnapshotClient,
    desired: DesiredState,
    read: AuditRead,
    at_risk_after: timedelta = DEFAULT_AT_RISK_AFTER,
) -> tuple[AuditRead, list[Health]]:
    """The read with its refreshes due, and the health of every managed customer whose
    accounting connection is Linked (by uid; the others await the customer, as the audit says)."""
    uids = {c.uid for c in desired.customers if c.state == "present"}
    companies = sorted(
        (
            c
            for c in read.live.companies
            if c.owner == desired.owner and c.uid in uids and linked_accounting(c)
        ),
        key=lambda c: (c.uid or "", c.id),
    )
    schedules = await read_sync_schedules(client)
    facts = await read_health(client, companies, read.live.expense_configs)
    options = HealthOptions(
        at_risk_after=at_risk_after,
        schedules=schedules,
        refresh_data=AUTO_REFRESH_DATA in desired.policy.auto,
        refresh_every=desired.policy.refresh_data_every,
    )
    healths = [assess(c.uid or "", c, facts[c.id], read.now, options) for c in companies]
    healths = await hold_recent_refreshes(client, companies, facts, healths, read.now, options)
    due, held = refresh_due(healths), refresh_held(healths)
    if due or held:
        read = replace(read, live=replace(read.live, refresh_due=due, refresh_held=held))
    return read, healths
