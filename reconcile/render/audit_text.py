"""The audit for a terminal, grouped by who must act (a person, a review, converge, the
customer), the kinds most urgent first within each; then the verdict. At fleet size it stays
short (`reconcile.render.audit_condense`): each kind names its first few findings and counts
the rest, the awaiting list is counted by age with its oldest named; `verbose` shows all.

Everything from the file or Codat goes through `reconcile.escape` (`text`, `quoted`).
Link URLs and company ids are shown only when the caller asks (`link_urls=True`): a terminal is
often a CI log, and the id of a company awaiting authorization is a Link URL
(`reconcile.render.bearer`); the uid, or the company's name, identifies a finding.
"""

from __future__ import annotations

from reconcile.audit.model import (
    KIND_ORDER,
    WHO_HEADINGS,
    Audit,
    Finding,
    FindingKind,
)
from reconcile.durations import format_duration
from reconcile.escape import quoted, text
from reconcile.model.who import URGENCY
from reconcile.render import audit_condense as condense
from reconcile.render.bearer import hide
from reconcile.render.style import Style

PLAIN = Style()


def render_audit_text(
    audit: Audit, style: Style = PLAIN, *, link_urls: bool = False, verbose: bool = False
) -> str:
    lines: list[str] = []
    for who in URGENCY:
        mine = audit.by_who(who)
        if not mine:
            continue
        lines.append(style(f"== {WHO_HEADINGS[who]} ({len(mine)}) ==", "bold"))
        for kind in (k for k in KIND_ORDER if k.who == who):
            found = audit.of(kind)
            if not found:
                continue
            colour = ("red", "bold") if kind in audit.fail_on else ("bold",)
            mark = "" if kind in audit.fail_on else "  (informational)"
            lines.append(style(f"{kind.heading} ({len(found)}){mark}:", *colour))
            if verbose:
                shown: list[Finding] = list(found)
            elif kind is FindingKind.AWAITING_AUTHORIZATION:
                ages = ", ".join(f"{label} {n}" for label, n in condense.age_counts(found))
                lines.append(f"  by age: {ages}; the oldest {condense.OLDEST_NAMED}:")
                shown = condense.oldest(found)
            else:
                shown = list(found[: condense.TEXT_SHOWN])
            for finding in shown:
                lines.extend(_finding(finding, link_urls, style))
            if len(found) > len(shown):
                lines.append("  " + condense.more_line(len(found) - len(shown)))
            lines.append("")
    if audit.warnings:
        lines.append(style(f"Warnings ({len(audit.warnings)}):", "yellow", "bold"))
        lines.extend(f"  {text(w)}" for w in audit.warnings)
        lines.append("")
    if audit.health is not None:
        counts = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in audit.health.items())
        lines.append(f"Health: {counts}.")
    if audit.since_report is not None:
        lines.append(
            f"Since {text(audit.since_report)}: {len(audit.new)} new, {audit.resolved} resolved."
        )
    lines.append(verdict(audit, style))
    out = "\n".join(lines) + "\n"
    return out if link_urls else hide(out, keep=audit.linked)


def _finding(finding: Finding, link_urls: bool, style: Style) -> list[str]:
    who = f"{text(finding.uid)} {quoted(finding.name)}" if finding.uid else quoted(finding.name)
    if not finding.uid and not finding.name:
        who = "(whole plan)"
    where = f"  company {text(finding.company_id)}" if finding.company_id and link_urls else ""
    new = style("  [new]", "cyan") if finding.new else ""
    lines = [f"  {who}{where}{new}", f"      {text(finding.detail)}"]
    extra = []
    if finding.since:
        extra.append(f"since {text(finding.since)}")
    if finding.link_url and link_urls:
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
