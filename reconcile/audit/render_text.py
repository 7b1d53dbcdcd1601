"""The audit for a terminal: the kinds most urgent first, one line per finding, then the verdict.

Everything from the file or Codat goes through `reconcile.render.escape` (`text`, `quoted`).
"""

from __future__ import annotations

from reconcile.audit.duration import format_duration
from reconcile.audit.model import KIND_ORDER, Audit, Finding
from reconcile.render.escape import quoted, text
from reconcile.render.style import Style

PLAIN = Style()


def render_audit_text(audit: Audit, style: Style = PLAIN) -> str:
    lines: list[str] = []
    for kind in KIND_ORDER:
        found = audit.of(kind)
        if not found:
            continue
        colour = ("red", "bold") if kind in audit.fail_on else ("bold",)
        mark = "" if kind in audit.fail_on else "  (informational)"
        lines.append(style(f"{kind.heading} ({len(found)}){mark}:", *colour))
        for finding in found:
            lines.extend(_finding(finding))
        lines.append("")
    if audit.warnings:
        lines.append(style(f"Warnings ({len(audit.warnings)}):", "yellow", "bold"))
        lines.extend(f"  {text(w)}" for w in audit.warnings)
        lines.append("")
    lines.append(verdict(audit, style))
    return "\n".join(lines) + "\n"


def _finding(finding: Finding) -> list[str]:
    who = f"{text(finding.uid)} {quoted(finding.name)}" if finding.uid else quoted(finding.name)
    if not finding.uid and not finding.name:
        who = "(whole plan)"
    where = f"  company {text(finding.company_id)}" if finding.company_id else ""
    lines = [f"  {who}{where}", f"      {text(finding.detail)}"]
    extra = []
    if finding.since:
        extra.append(f"since {text(finding.since)}")
    if finding.link_url:
        extra.append(text(finding.link_url))
    if extra:
        lines.append("      " + "  ".join(extra))
    return lines


def verdict(audit: Audit, style: Style = PLAIN) -> str:
    counts = audit.counts()
    if not audit.drift:
        informational = sum(counts.values())
        tail = f" ({informational} informational finding(s) above)" if informational else ""
        return style(f"No drift: Codat matches the file for owner {audit.owner}.{tail}", "green")
    parts = ", ".join(f"{k.value} {counts[k.value]}" for k in audit.failing)
    return style(
        f"Drift: {parts} (counted as drift: {', '.join(sorted(k.value for k in audit.fail_on))}; "
        f"stale after {format_duration(audit.stale_after)}).",
        "bold",
    )
