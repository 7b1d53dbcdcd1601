"""The audit run: read every company once (`reconcile.facts.snapshot`), then judge it, and place
each declared customer in the onboarding funnel (`reconcile.facts.onboarding`, for `--format
html`). Read-only: the snapshot client sends nothing but GET (with `--notify`, the notifications
go to the partner's app and the team, never to Codat)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from reconcile.runs.errors import RunError

if TYPE_CHECKING:
    from reconcile.audit import Audit, FindingKind
    from reconcile.model import DesiredState
    from reconcile.model.onboarding import Onboarding
    from reconcile.planner import PlanOptions
    from reconcile.plans.settings import SettingsChange
    from reconcile.runs.connect import Where
    from reconcile.runs.notify import Log, Notifying


@dataclass(frozen=True)
class Reading:
    """What the audit reads beyond the snapshot: with `health`, each Linked customer's health
    (`reconcile.facts.audit_health`, no successful sync for `at_risk_after` is at_risk)."""

    health: bool = False
    at_risk_after: timedelta | None = None


@dataclass(frozen=True)
class AuditRun:
    report: Audit
    onboarding: tuple[Onboarding, ...]  # each declared customer's step, in file order


async def audit(
    where: Where,
    desired: DesiredState,
    options: PlanOptions,
    *,
    fail_on: frozenset[FindingKind],
    stale_after: timedelta,
    on_read: Callable[[int, int], None] | None = None,
    notify: Notifying | None = None,
    log: Log | None = None,
    reading: Reading | None = None,
) -> AuditRun:
    """The audit of `desired` against `where`; `--target` naming a customer neither the files
    nor Codat know is a `RunError`. `on_read(companies, requests)` hears what the read cost.
    With `notify`, what the audit saw (as a pass that wrote nothing) is told; `log` hears the
    notifier. With an environment, the account settings are compared with its `settings:`;
    `on_read` then counts every request the run sent."""
    from reconcile.audit import build_audit
    from reconcile.facts.onboarding import onboarding
    from reconcile.facts.snapshot import SnapshotClient, read_for_audit
    from reconcile.runs.connect import open_client

    async with open_client(where, SnapshotClient, desired=desired) as client:
        assert isinstance(client, SnapshotClient)
        read = await read_for_audit(client, desired)
        known = {c.uid for c in desired.customers} | {c.uid for c in read.companies if c.uid}
        unknown = options.targets - known
        if unknown:
            raise RunError(f"--target names unknown customer(s): {', '.join(sorted(unknown))}")
        healths = None
        if reading is not None and reading.health:
            from reconcile.facts.audit_health import read_audit_health
            from reconcile.health import DEFAULT_AT_RISK_AFTER

            at_risk = reading.at_risk_after or DEFAULT_AT_RISK_AFTER
            read, healths = await read_audit_health(client, desired, read, at_risk)
        settings: tuple[SettingsChange, ...] = ()
        if desired.environment is not None:
            from reconcile.runs.settings import planned_settings

            settings = await planned_settings(client, desired)
        sent = client.requests_sent
        if notify is not None:
            from reconcile.notify.once import read_only_pass
            from reconcile.runs.notify import notify_pass

            result = read_only_pass(desired, read.live, read.now)
            await notify_pass(notify, client, desired, result, log or (lambda line: None))
    if on_read is not None:
        on_read(len(read.companies), sent)
    report = build_audit(
        desired,
        read,
        options=options,
        fail_on=fail_on,
        stale_after=stale_after,
        health=healths,
        requests=sent,
        settings=settings,
    )
    return AuditRun(report, onboarding(desired, read.live))
