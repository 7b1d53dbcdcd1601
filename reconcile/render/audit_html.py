"""`reconcile audit --format html`: the status page's report as one static file, for a CI
artifact. The same templates as the watch's page (reconcile/render/html.py); the funnel comes
from the audit's read, what waits for whom from its findings. Never a Link URL (whatever
`--link-urls` says) and no company id of a customer awaiting authorization: only uids."""

from __future__ import annotations

from datetime import UTC, datetime

from reconcile.audit.model import Audit
from reconcile.model.onboarding import Onboarding
from reconcile.render.bearer import hide, hide_ids
from reconcile.render.html import render_report
from reconcile.render.status_view import CustomerView, StatusView, WaitRow, by_uid, parse_time


def audit_view(
    audit: Audit, rows: tuple[Onboarding, ...], now: datetime | None = None
) -> StatusView:
    moment = now or parse_time(audit.read_at) or datetime.now(UTC)
    known = frozenset(f.company_id for f in audit.findings if f.company_id)
    waiting = tuple(
        WaitRow(
            finding.kind.who,
            finding.uid or "",
            finding.name,
            finding.kind.heading,
            hide_ids(hide(finding.detail), known),
            parse_time(finding.since),
        )
        for finding in audit.findings
    )
    grouped = by_uid(waiting)
    customers = tuple(CustomerView(row, grouped.get(row.uid, ())) for row in rows)
    verdict = (
        "drift: " + ", ".join(kind.value for kind in audit.failing) if audit.drift else "no drift"
    )
    health = (
        ("Verdict", verdict),
        ("Files", ", ".join(audit.files) or "input"),
        ("Customers in the files", f"{audit.customers:,}"),
        ("Companies read", f"{audit.companies_read:,} in {audit.requests} request(s)"),
        ("Read at", audit.read_at or "unknown"),
    )
    return StatusView(
        title=f"Audit of {audit.owner}",
        owner=audit.owner,
        now=moment,
        customers=customers,
        waiting=waiting,
        health=health,
        notes=tuple(hide_ids(hide(w), known) for w in audit.warnings),
        source="audit",
    )


def render_audit_html(audit: Audit, rows: tuple[Onboarding, ...]) -> str:
    return render_report(audit_view(audit, rows))
