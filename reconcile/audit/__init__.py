"""`reconcile audit`: a read-only drift report (docs/design.md §6, issue 9).

    read = await read_for_audit(client, desired)     # reconcile.facts.snapshot: the only I/O
    audit = build_audit(desired, read, ...)          # pure: the planner, then the findings
    render_audit_text(audit) / _json / _markdown     # reconcile/render/audit_*.py

The client is `SnapshotClient`, a `ReadOnlyClient`: nothing but GET can leave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from reconcile.audit.findings import audit_findings
from reconcile.audit.model import (
    DEFAULT_FAIL_ON,
    DEFAULT_STALE_AFTER,
    KIND_ORDER,
    Audit,
    Finding,
    FindingKind,
)
from reconcile.facts.snapshot import AuditRead, managed_count
from reconcile.model import DesiredState
from reconcile.planner import PlanOptions, make_plan

if TYPE_CHECKING:
    from reconcile.health.model import Health
    from reconcile.plans.settings import SettingsChange

__all__ = [
    "DEFAULT_FAIL_ON",
    "DEFAULT_STALE_AFTER",
    "KIND_ORDER",
    "Audit",
    "Finding",
    "FindingKind",
    "build_audit",
]


def build_audit(
    desired: DesiredState,
    read: AuditRead,
    *,
    options: PlanOptions | None = None,
    fail_on: frozenset[FindingKind] = DEFAULT_FAIL_ON,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    health: Sequence[Health] | None = None,
    requests: int | None = None,
    settings: Sequence[SettingsChange] = (),
) -> Audit:
    """The report of one read: the plan exactly as `plan` makes it, then the findings (with
    `health`, read by `audit --health`, the customers' health findings too)."""
    options = options or PlanOptions()
    plan = make_plan(desired, read.live, options)
    findings = audit_findings(
        desired,
        read.companies,
        plan,
        now=read.now,
        stale_after=stale_after,
        targets=options.targets,
    )
    if settings:
        drift = tuple(
            Finding(
                FindingKind.ACCOUNT_SETTINGS,
                None,
                "",
                None,
                f"{s.subject}: {'; '.join(s.lines)}",
                facts={"subject": s.subject, "differences": list(s.lines)},
            )
            for s in settings
        )
        findings = tuple(sorted((*findings, *drift), key=Finding.sort_key))
    counts = None
    if health is not None:
        from reconcile.audit.health import health_counts, health_findings

        findings = tuple(sorted((*findings, *health_findings(health)), key=Finding.sort_key))
        counts = health_counts(health)
    return Audit(
        owner=desired.owner,
        findings=findings,
        fail_on=fail_on,
        stale_after=stale_after,
        files=desired.files,
        customers=len(desired.customers),
        companies_read=len(read.companies),
        managed=managed_count(read.companies, desired.owner),
        requests=read.requests if requests is None else requests,
        read_at=read.live.read_at,
        warnings=plan.warnings,
        health=counts,
        linked=plan.linked,
    )
