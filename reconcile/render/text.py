"""Terraform-like text, the most dangerous first: **Destructive** (every unlink and delete, with
what it cuts off, as the Markdown comment lists them), the customers drift cut off (they must
authorize again), then one block per customer, the not-changes lists, and the verdict line.

Everything from the file or from Codat is escaped (`reconcile.escape.text`): a name, a
reason or a URL can neither add a line nor reach the terminal raw. Colour (SGR only) is added
after escaping, by `Style`, and only when the stream is a terminal.

A plan printed to a terminal is often a CI log too: unless the caller asks (`link_urls=True`,
`--link-urls` on a terminal), neither Link URLs nor ids are shown (`reconcile.render.bearer`:
the id of a company awaiting authorization is a Link URL), but for the ids of companies known
to be Linked (`Plan.linked`); a customer's uid identifies it.
"""

from __future__ import annotations

from reconcile.escape import quoted, text
from reconcile.plans import Action, CustomerChange, Note, Plan
from reconcile.render import describe, risk
from reconcile.render.bearer import hide
from reconcile.render.describe import TEXT, Row
from reconcile.render.style import Style

PLAIN = Style()

_COLOURS = {"+": "green", "~": "yellow", "-": "red"}


def render_plan(
    plan: Plan,
    style: Style = PLAIN,
    *,
    list_limit: int = describe.LIST_LIMIT,
    full_list_hint: str = describe.FULL_LIST_HINT,
    link_urls: bool = False,
) -> str:
    """The plan for a terminal or a log. Note lists show `list_limit` entries each, oldest
    first, then how many more and `full_list_hint` (how to see them all). Link URLs and ids
    only with `link_urls`."""
    lines: list[str] = []
    names = {c.uid: c.name for c in plan.changes}
    destructive = [a for a in plan.actions if risk.is_destructive(a)]
    moves = [s for s in plan.settings if s.destructive]
    if destructive or moves:
        n = len(destructive) + len(moves)
        lines.append(style(f"Destructive ({n}): read these first", "red", "bold"))
        lines.extend(
            f"  {style('~', 'red')} account settings  {text(s.subject)}: {text(line)}"
            for s in moves
            for line in s.lines
        )
        ordered = sorted(destructive, key=risk.action_risk, reverse=True)
        lines.extend(_danger("-", a, names, risk.cuts_off(a), style) for a in ordered)
        lines.append("")
    cut = describe.cut_offs(plan)
    if cut:
        lines.append(style(f"{describe.CUT_OFF_TITLE} ({len(cut)}):", "red", "bold"))
        lines.extend(_danger("!", a, names, f"{a.subject}: {a.reason}", style) for a in cut)
        lines.append("")
    for change in plan.changes:
        lines.extend(_change(change, style))
        lines.append("")
    for kind in describe.note_kinds(plan):
        notes = tuple(n for n in plan.notes if n.kind == kind)
        _notes(lines, kind, notes, list_limit, full_list_hint, link_urls)
    if plan.refused:
        lines.append(style(f"Refused ({len(plan.refused)}):", "red", "bold"))
        for r in plan.refused:
            who = f"{text(r.uid)} {quoted(r.name)}"
            lines.append(f"  {who}  {text(r.subject)}: {text(r.reason)}")
        lines.append("")
    if plan.warnings:
        lines.append(style(f"Warnings ({len(plan.warnings)}):", "yellow", "bold"))
        lines.extend(f"  {text(w)}" for w in plan.warnings)
        lines.append("")
    if plan.not_read:
        lines.append(text(plan.not_read))
    lines.append(summary_line(plan, style))
    if plan.unsafe:
        lines.append(
            style(f"Refused as a whole, nothing of it applies: {text(plan.unsafe)}", "red")
        )
    out = "\n".join(lines) + "\n"
    return out if link_urls else hide(out, keep=plan.linked)


def summary_line(plan: Plan, style: Style = PLAIN) -> str:
    """The verdict: never "No changes" alone while something is refused."""
    line = describe.verdict(plan)
    if plan.refused:
        return style(line, "red", "bold")
    return style(line, "bold" if plan.has_changes else "green")


def _danger(sign: str, action: Action, names: dict[str, str], words: str, style: Style) -> str:
    """One line of the Destructive or cut-off list: who, and what happens to them."""
    who = f"{text(action.uid)} {quoted(names.get(action.uid, ''))}"
    reason = f"  ({text(action.reason)})" if action.reason and risk.is_destructive(action) else ""
    return f"  {style(sign, 'red')} {who}  {text(words)}{reason}"


def _change(change: CustomerChange, style: Style) -> list[str]:
    header = text(describe.header(change))
    lines = [style(f"  # {text(change.uid)} {quoted(change.name)} {header}", "bold")]
    for action in change.actions:
        lines.extend(_row(row, style) for row in describe.rows(action, TEXT))
    return lines


def _row(row: Row, style: Style) -> str:
    sign = style(row.sign, _COLOURS[row.sign])
    return f"  {sign} {row.words}" if row.depth == 0 else f"      {sign} {row.words}"


def _notes(
    lines: list[str], kind: str, notes: tuple[Note, ...], limit: int, hint: str, link_urls: bool
) -> None:
    if not notes:
        return
    shown, more = describe.oldest_first(notes, limit)
    lines.append(f"{describe.NOTE_TITLES.get(kind, kind)} ({len(notes)}):")
    for n in shown:
        extra = [f"since {text(n.since[:10])}"] if n.since else []
        extra += [text(n.link_url)] if n.link_url and link_urls else []
        lines.append(
            f"  {text(n.uid)} {quoted(n.name)}  {text(n.subject)}: {text(n.text)}"
            + "".join(f"  {x}" for x in extra)
        )
    if more:
        lines.append("  " + describe.more_line(more, hint))
    lines.append("")
