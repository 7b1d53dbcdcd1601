"""The audit as an issue body or a chat message: verdict and counts first, then the findings
grouped by who must act (a person, a review, converge, the customer), one section per kind,
capped like the plan's comment (`reconcile.render.markdown.capped`): when too long, the least
urgent findings are left out first, and each section says how many. Person-level findings come
first, so they are the last left out: a kind with many of them says what they share once and
then lists each customer and its companies (`reconcile.render.audit_condense`), so all of them
fit in an issue at fleet size. The awaiting list is counted by age, its oldest named
(`verbose`: all). New findings (`--since`) are marked. Link URLs are left out unless the caller
asks: an issue is no place for them. Nor are company ids (the id of a company awaiting
authorization is a Link URL, `reconcile.render.bearer`): the uid, or the company's name,
identifies a finding; the JSON report (a private file) has the ids."""

from __future__ import annotations

from collections.abc import Callable

from reconcile import escape
from reconcile.audit.model import KIND_ORDER, WHO_HEADINGS, Audit, Finding, FindingKind
from reconcile.durations import format_duration
from reconcile.model.who import URGENCY
from reconcile.render import audit_condense as condense
from reconcile.render.markdown import LIMIT, Droppable, bullets, capped, markdown

JSON_HINT = "the JSON report (`reconcile audit ... --format json`)"


def render_audit_markdown(
    audit: Audit,
    *,
    limit: int = LIMIT,
    full_hint: str | None = None,
    link_urls: bool = False,
    verbose: bool = False,
) -> str:
    where = markdown(full_hint) if full_hint else JSON_HINT
    sections: list[str | Droppable] = [_head(audit)]
    if audit.warnings:
        items = "".join(f"- {markdown(w)}\n" for w in audit.warnings)
        sections.append(f"#### :warning: Warnings ({len(audit.warnings)})\n\n{items}")
    for who in URGENCY:
        mine = audit.by_who(who)
        if not mine:
            continue
        sections.append(f"\n### {markdown(WHO_HEADINGS[who])} ({len(mine)})\n")
        for kind in (k for k in KIND_ORDER if k.who == who):
            found = audit.of(kind)
            if not found:
                continue
            mark = " :x:" if kind in audit.fail_on else ""
            # After the previous section's tight list: a blank line, then the heading.
            sections.append(f"\n#### {markdown(kind.heading)} ({len(found)}){mark}\n")
            if who == "person":
                sections.append(Droppable(_person(found, link_urls), _left_out(kind, limit, where)))
            elif kind is FindingKind.AWAITING_AUTHORIZATION and not verbose:
                sections.append(_awaiting(found, link_urls))
            else:
                listed = [_item(f, link_urls) for f in found]
                sections.append(Droppable(listed, _left_out(kind, limit, where)))
    return capped(*sections, limit=limit)


def _person(found: tuple[Finding, ...], link_urls: bool) -> list[str]:
    """Every finding of a person-level kind, one line each, or, when many, grouped by what
    they share (said once), then each customer and its companies. These sections come first,
    so they are the last to lose lines when a report is too long."""
    if len(found) <= condense.GROUP_AT:
        return [_item(f, link_urls) for f in found]
    out = []
    for words, group in condense.groups(found):
        out.append(f"- {markdown(words)} ({len(group)}):")
        out.extend(f"  - {_who_ids(f)}" for f in group)
    return out


def _who_ids(finding: Finding) -> str:
    who = f"**{markdown(finding.uid)}**" if finding.uid else markdown(_in_quotes(finding.name))
    mark = ":new: " if finding.new else ""
    return mark + " ".join([who, *(markdown(i) for i in condense.company_ids(finding))])


def _awaiting(found: tuple[Finding, ...], link_urls: bool) -> str:
    """Counted by age, the oldest few named."""
    ages = ", ".join(f"{label}: {n}" for label, n in condense.age_counts(found))
    items = [_item(f, link_urls)[2:] for f in condense.oldest(found)]
    rest = len(found) - len(items)
    if rest:
        items.append(condense.more_line(rest))
    return f"By age: {ages}. The oldest:\n\n" + bullets(items)


def _left_out(kind: FindingKind, limit: int, where: str) -> Callable[[int], str]:
    def note(n: int) -> str:
        return (
            f"- **{n} more {kind.value} finding{'' if n == 1 else 's'} not shown "
            f"(this report is limited to {limit:,} characters): see {where}.**"
        )

    return note


def _head(audit: Audit) -> str:
    owner = markdown(audit.owner)
    if audit.drift:
        failing = ", ".join(f"`{k.value}`" for k in audit.failing)
        verdict = f"**Drift for owner {owner}**: {failing}"
    else:
        verdict = f"**No drift for owner {owner}**: Codat matches the file"
    counts = audit.counts()
    header = "| Who acts | Finding | Count | Counts as drift |\n|---|---|---:|:---:|\n"
    rows = "".join(
        f"| {k.who} | `{k.value}` | {counts[k.value]} | {'yes' if k in audit.fail_on else 'no'} |\n"
        for who in URGENCY
        for k in KIND_ORDER
        if k.who == who
    )
    read = f"{audit.companies_read:,} companies read in {audit.requests} request(s)"
    when = f" at {markdown(audit.read_at)}" if audit.read_at else ""
    stale = format_duration(audit.stale_after)
    since = ""
    if audit.health is not None:
        shown = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in audit.health.items())
        since += f"\nHealth: {shown}.\n"
    if audit.since_report is not None:
        since += (
            f"\n**{len(audit.new)} new** since {markdown(audit.since_report)} "
            f"({audit.resolved} resolved).\n"
        )
    return (
        f"{verdict}\n\n{header}{rows}\n"
        f"{audit.customers:,} customers in the file(s); {read}{when}; "
        f"authorizations are stale after {stale}.\n{since}"
    )


def _item(finding: Finding, link_urls: bool) -> str:
    if finding.uid:
        who = f"**{markdown(finding.uid)}** {markdown(_in_quotes(finding.name))}"
    else:
        who = markdown(_in_quotes(finding.name)) if finding.name else "**(whole plan)**"
    parts = [f":new: **new** {who}" if finding.new else who]
    parts.append(markdown(finding.detail))
    if finding.since:
        parts.append(f"since {markdown(finding.since)}")
    if finding.link_url and link_urls:
        parts.append(escape.markdown(finding.link_url))  # asked for: shown as it is
    return "- " + " · ".join(parts)  # no blank line between items: a tight list


def _in_quotes(name: str) -> str:
    return '"' + name + '"'
