"""`reconcile audit`: a read-only drift report (docs/design.md §6, issue 9).

    read = await read_for_audit(client, desired)     # audit/read.py: the only I/O
    audit = build_audit(desired, read, ...)          # pure: the planner, then the findings
    render_audit_text(audit) / _json / _markdown     # reconcile/render/audit_*.py

The client is `SnapshotClient`, a `ReadOnlyClient`: nothing but GET can leave it.
"""

from __future__ import annotations

from datetime import timedelta

from reconcile.audit.findings import audit_findings
from reconcile.audit.model import (
    DEFAULT_FAIL_ON,
    DEFAULT_STALE_AFTER,
    KIND_ORDER,
    Audit,
    Finding,
    FindingKind,
)
from reconcile.audit.read import AuditRead, managed_count
from reconcile.model import DesiredState
from reconcile.planner import PlanOptions, make_plan

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
) -> Audit:
    """The report of one read: the plan exactly as `plan` makes it, then the findings."""
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
    return Audit(
        owner=desired.owner,
        findings=findings,
        fail_on=fail_on,
        stale_after=stale_after,
        files=desired.files,
        customers=len(desired.customers),
        companies_read=len(read.companies),
        managed=managed_count(read.companies, desired.owner),
        requests=read.requests,
        read_at=read.live.read_at,
        warnings=plan.warnings,
    )
