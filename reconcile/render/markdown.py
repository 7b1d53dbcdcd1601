"""The plan as a pull-request comment (GitHub or GitLab Markdown), and the helpers behind it.

`render_plan_markdown(plan)` leads with what can hurt: a one-line verdict and a table of counts;
then **Destructive**, every unlink and every delete with what it cuts off (never left out,
whatever the size); the allowances in effect (when the caller says which); the refusals (marked
new or pre-existing when the caller compared with a base) and warnings; one folded `<details>`
block per customer, riskiest first, its summary naming the risk and its changes in a ```diff
block (so `+`/`-` are coloured; `!` marks a change); then the awaiting-authorization,
re-authorization, deferred and blocked lists, each capped at 20 entries, oldest first. Neither
Link URLs nor company ids appear (`reconcile.render.bearer`): the id of a company awaiting
authorization is a Link URL, whoever opens one can authorize a company, and a comment is read by
many. A customer's uid identifies it.

Reusable helpers (the audit report is built with them too):

- Escaping (`reconcile.escape`, after `bearer.hide`): `markdown(x)` for inline Markdown (lists,
  tables, headings), `html_text(x)` inside raw HTML such as `<summary>`, `code(x)` inside a
  fenced block. Every string that came from the file or from Codat goes through one of them.
- `details(summary_html, lines)`: one folded block, its lines in a ```diff fence.
- `bullets(items)`: a Markdown list from already escaped items.
- `capped(*sections, limit=...)`: joins sections (each a string, or a `Droppable` of blocks)
  with a blank line between them, in at most `limit` characters. When the whole is too long,
  whole blocks are left out from the end of the *last* `Droppable` first (then of the one before
  it, ...), and each such section ends with what its `left_out(n)` says about the `n` blocks it
  lost. Plain string sections are always kept; if they alone exceed the limit, the text is cut
  at a line boundary with a note saying so. GitHub refuses comments over 65,536 characters;
  the default limit leaves room for a CI tool's own header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from reconcile import escape
from reconcile.plans import Action, CustomerChange, Kind, Note, Plan, Refusal, SettingsChange
from reconcile.render import describe, risk
from reconcile.render.bearer import hide
from reconcile.render.describe import Escaper, Row

LIMIT = 65000
MD_LIST_HINT = "list them all with `reconcile plan ... --format json`, or `reconcile audit`"
_DIFF_SIGNS = {"+": "+", "~": "!", "-": "-"}


# ---------------------------------------------------------------------- reusable helpers


def markdown(value: object) -> str:
    """`escape.markdown`, Link URLs and ids hidden first (`reconcile.render.bearer`)."""
    return escape.markdown(hide(value))


def html_text(value: object) -> str:
    """`escape.html_text`, Link URLs and ids hidden first."""
    return escape.html_text(hide(value))


def code(value: object) -> str:
    """`escape.code`, Link URLs and ids hidden first."""
    return escape.code(hide(value))


CODE = Escaper(code, lambda v: '"' + code(v).replace('"', '\\"') + '"')


@dataclass(frozen=True)
class Droppable:
    """Blocks that may be left out, whole, from the end when a document is too long;
    `left_out(n)` is the Markdown that says `n` of them were."""

    blocks: Sequence[str]
    left_out: Callable[[int], str]


def capped(*sections: str | Droppable, limit: int = LIMIT) -> str:
    """The sections joined by blank lines, never longer than `limit` characters."""
    parts: list[list[str]] = [[s] if isinstance(s, str) else list(s.blocks) for s in sections]
    dropped = [0] * len(sections)

    def size() -> int:
        pieces = [p for part in parts for p in part]
        pieces += [_note(s, n) for s, n in zip(sections, dropped, strict=True) if n]
        return sum(map(len, pieces)) + max(0, len(pieces) - 1)

    total = size()
    for i in reversed(range(len(sections))):
        section = sections[i]
        if total <= limit:
            break
        if not isinstance(section, Droppable):
            continue
        while parts[i] and total > limit:
            block = parts[i].pop()
            total -= len(block) + 1
            if dropped[i]:
                total -= len(_note(section, dropped[i])) + 1
            dropped[i] += 1
            total += len(_note(section, dropped[i])) + 1
    pieces: list[str] = []
    for part, section, n in zip(parts, sections, dropped, strict=True):
        pieces.extend(part)
        if n:
            pieces.append(_note(section, n))
    out = "\n".join(pieces)
    if len(out) <= limit:
        return out
    return _cut(out, limit)


def _note(section: str | Droppable, n: int) -> str:
    return section.left_out(n) if isinstance(section, Droppable) else ""


def _cut(out: str, limit: int) -> str:
    """The last resort when even the fixed sections are too long: cut at a line boundary."""
    tail = f"\n\n**Cut here: this comment is limited to {limit:,} characters.**\n"
    keep = max(0, limit - len(tail))
    head = out[:keep]
    if "\n" in head:
        head = head[: head.rindex("\n")]
    return (head + tail)[:limit]


def details(summary_html: str, lines: Iterable[str], lang: str = "diff") -> str:
    """A folded block: `summary_html` must be escaped already (`html_text`), and so must each
    of `lines` (`code`), which go in a fenced block of language `lang`."""
    body = "\n".join(lines)
    return f"<details><summary>{summary_html}</summary>\n\n```{lang}\n{body}\n```\n\n</details>\n"


def bullets(items: Iterable[str]) -> str:
    """A Markdown list; each item is Markdown already escaped."""
    return "".join(f"- {item}\n" for item in items)


# ---------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Review:
    """What the caller knows beyond the plan, for the comment to say.

    `allowances`: the safety allowances the plan was made with, in words (empty: none), or
    None when the caller does not say. `changed`: the uids the pull request changed, when the
    plan was compared with a base; a refusal about one of them is new (it blocks), any other
    predates the pull request (shown, not blocking)."""

    allowances: Sequence[str] | None = None
    changed: AbstractSet[str] | None = None


def render_plan_markdown(
    plan: Plan,
    *,
    full_plan_hint: str | None = None,
    limit: int = LIMIT,
    list_limit: int = describe.LIST_LIMIT,
    full_list_hint: str = MD_LIST_HINT,
    review: Review = Review(),
    link_urls: bool = False,
) -> str:
    """The plan as a pull-request comment of at most `limit` characters. When customer blocks
    are left out (the least risky first), the comment says how many and where the full plan is
    (`full_plan_hint`, e.g. "the saved plan, in this run's artifacts"; escaped). Note lists show
    `list_limit` entries each, then `full_list_hint` (Markdown written by the program). Link
    URLs are left out unless `link_urls`: anyone who opens one can authorize that company, and a
    pull-request comment is no place for it."""
    where = markdown(full_plan_hint) if full_plan_hint else "`reconcile plan ... --format json`"
    sections: list[str | Droppable] = [_head(plan)]
    moves = [s for s in plan.settings if s.destructive]
    if moves:
        sections.append(_moves(moves))
    destructive = [a for a in plan.actions if risk.is_destructive(a)]
    if destructive:
        sections.append(_destructive(plan, destructive, limit))
    cut = describe.cut_offs(plan)
    if cut:
        sections.append(_cut_off(plan, cut))
    if review.allowances is not None:
        sections.append(_allowances(review.allowances))
    if plan.refused:
        sections.append(_refused(plan, review.changed))
    if plan.warnings:
        sections.append(_warnings(plan))
    if plan.changes:
        n, listed = len(plan.changes), bool(destructive)
        sections.append(f"#### Changes ({n} customer{'' if n == 1 else 's'}, riskiest first)\n")
        sections.append(
            Droppable(
                [_customer(c) for c in risk.riskiest_first(plan.changes)],
                lambda k: (
                    f"**{k} more customer{'' if k == 1 else 's'} with changes not shown, the "
                    f"least risky (this comment is limited to {limit:,} characters"
                    + ("; every unlink and delete is listed under Destructive above" * listed)
                    + f"): the full plan is {where}.**\n"
                ),
            )
        )
    for kind in describe.note_kinds(plan):
        notes = [n for n in plan.notes if n.kind == kind]
        if notes:
            sections.append(_notes(kind, notes, list_limit, full_list_hint, link_urls))
    return capped(*sections, limit=limit)


def _head(plan: Plan) -> str:
    counts = describe.counts(plan)
    columns = {
        **counts,
        "awaiting": len(plan.notes_of("awaiting_authorization")),
        "deferred": len(plan.notes_of("deferred")),
        "refused": len(plan.refused),
    }
    header = "| " + " | ".join(k.capitalize() for k in columns) + " |"
    rule = "|" + "---:|" * len(columns)
    values = "| " + " | ".join(str(v) for v in columns.values()) + " |"
    verdict = markdown(describe.verdict(plan, refusals_are="below"))
    if plan.unsafe:
        verdict += " Refused as a whole, nothing of it applies: " + markdown(plan.unsafe)
    not_read = f"\n{markdown(plan.not_read)}\n" if plan.not_read else ""
    return f"**{verdict}**\n\n{header}\n{rule}\n{values}\n{not_read}"


def _moves(moves: Sequence[SettingsChange]) -> str:
    """The account settings' destroys: a webhook consumer moved to another host (never more
    than the file declares, so never shortened)."""
    items = [
        f"account settings · {markdown(s.subject)} · {markdown(line)}"
        for s in moves
        for line in s.lines
    ]
    return (
        f"#### :boom: Destructive account settings ({len(moves)}): read these first\n\n"
        "The account's webhooks go to another host.\n\n" + bullets(items)
    )


def _destructive(plan: Plan, actions: Sequence[Action], limit: int) -> str:
    """Every unlink and delete, riskiest first, each with what it cuts off. Never shortened:
    when one line per action would take more than half the comment, the actions are grouped
    by what they cut off, which is then said once per group (a fleet-size offboarding)."""
    names = {c.uid: c.name for c in plan.changes}
    ordered = sorted(actions, key=risk.action_risk, reverse=True)
    n = len(actions)
    head = f"#### :boom: Destructive ({n}): read these first\n\n"
    items = [
        f"{_who(a.uid, names.get(a.uid, ''))} · {markdown(risk.cuts_off(a))}"
        + (f" · {markdown(a.reason)}" if a.reason else "")
        for a in ordered
    ]
    full = (
        head
        + f"Every unlink and delete this plan makes, all {n} of them, with what each cuts off.\n\n"
        + bullets(items)
    )
    if len(full) <= limit // 2:
        return full
    groups: dict[str, list[Action]] = {}
    for a in ordered:
        groups.setdefault(risk.consequence(a), []).append(a)
    for named in (True, False):  # uid and name; uid only, when even that is too long
        grouped = head + (
            f"Every unlink and delete this plan makes, all {n} of them, grouped by what they "
            f"cut off{'' if named else ' (customers by uid)'}.\n"
            + "".join(_group(what, group, names, named) for what, group in groups.items())
        )
        if len(grouped) <= limit * 4 // 5:
            break
    return grouped


def _group(what: str, group: list[Action], names: dict[str, str], named: bool) -> str:
    who = [_who(a.uid, names.get(a.uid, "")) if named else markdown(a.uid) for a in group]
    lines = (", ".join(who[i : i + 20]) for i in range(0, len(who), 20))
    return f"\n**{markdown(what)}** ({len(group)}):\n\n" + bullets(lines)


def _cut_off(plan: Plan, actions: Sequence[Action]) -> str:
    """The customers drift cut off (a company or authorized connection deleted behind the
    tool): for a person to tell the customer, not a routine create."""
    names = {c.uid: c.name for c in plan.changes}
    items = (
        f"{_who(a.uid, names.get(a.uid, ''))} · {markdown(a.subject)}: {markdown(a.reason)}"
        for a in actions
    )
    return f"#### :rotating_light: {describe.CUT_OFF_TITLE} ({len(actions)})\n\n" + bullets(items)


def _allowances(allowances: Sequence[str]) -> str:
    if not allowances:
        return (
            "**Allowances in effect: none.** `state: deleted` is refused and the safety guard's "
            "limit on unlinks and deletes applies.\n"
        )
    return "**Allowances in effect:**\n\n" + bullets(markdown(a) for a in allowances)


def _who(uid: str, name: str) -> str:
    return f"**{markdown(uid)}** {markdown(_in_quotes(name))}"


def _in_quotes(name: str) -> str:
    return '"' + name + '"'


# Under --base: refusals that predate the pull request are named up to this many, then counted.
OLDER_REFUSALS_SHOWN = 5


def _refused(plan: Plan, changed: AbstractSet[str] | None) -> str:
    """Every refusal; under --base (`changed`), the ones the pull request introduced first,
    each in full, then the older ones condensed to a few and a count with a pointer."""
    title = f"#### :no_entry: Refused ({len(plan.refused)})\n\n"
    if changed is None:
        return title + bullets(_refusal(r) for r in plan.refused)
    new = [r for r in plan.refused if r.uid in changed]
    old = [r for r in plan.refused if r.uid not in changed]
    title += (
        f"{len(new)} about customers this pull request changes (these block it); "
        f"{len(old)} predate it (shown, not blocking).\n\n"
    )
    out = title + bullets("**new: blocks this pull request** · " + _refusal(r) for r in new)
    if old:
        shown = old[:OLDER_REFUSALS_SHOWN]
        rest = len(old) - len(shown)
        items = [f"pre-existing · {_who(r.uid, r.name)} · {markdown(r.subject)}" for r in shown]
        if rest:
            items.append(
                f"... and {rest} more that predate this pull request, not shown: "
                "`reconcile plan ... --format json` (or `reconcile audit`) lists them all"
            )
        out += ("\n" if new else "") + bullets(items)
    return out


def _refusal(r: Refusal) -> str:
    return f"{_who(r.uid, r.name)} · {markdown(r.subject)}: {markdown(r.reason)}"


def _warnings(plan: Plan) -> str:
    items = (markdown(w) for w in plan.warnings)
    return f"#### :warning: Warnings ({len(plan.warnings)})\n\n" + bullets(items)


def _customer(change: CustomerChange) -> str:
    header = describe.header(change)
    summary = (
        f"{html_text(change.uid)} {html_text(_in_quotes(change.name))} "
        f"{html_text(header)}: {html_text(risk.summary(change))}"
    )
    lines = [_diff_line(row) for a in change.actions for row in _rows(a)]
    return details(summary, lines)


def _rows(action: Action) -> list[Row]:
    """describe's rows, but an update names the fields it changes instead of the planner's
    generic "differs from the file", and no row shows a company id."""
    rows = describe.rows(action, CODE)
    if action.kind is Kind.DELETE_COMPANY:  # the company by name, never its id
        name = (action.before or {}).get("name")
        named = f" {CODE.quoted(name)}" if name else ""
        reason = f"  ({code(action.reason)})" if action.reason else ""
        return [Row(rows[0].sign, 0, f"delete company{named}{reason}"), *rows[1:]]
    if action.kind not in (Kind.UPDATE_COMPANY, Kind.SET_EXPENSE_CONFIG):
        return rows
    what = "company" if action.kind is Kind.UPDATE_COMPANY else "set expense config"
    words = f"{what}: {code(', '.join(risk.changed_fields(action)))}"
    if action.reason and action.reason not in risk.GENERIC_REASONS:
        words += f"  ({code(action.reason)})"
    return [Row(rows[0].sign, 0, words), *rows[1:]]


def _diff_line(row: Row) -> str:
    sign = _DIFF_SIGNS[row.sign]
    return f"{sign} {row.words}" if row.depth == 0 else f"{sign}     {row.words}"


def _notes(kind: str, notes: Sequence[Note], limit: int, hint: str, link_urls: bool = False) -> str:
    shown, more = describe.oldest_first(notes, limit)
    items = [_note_item(n, link_urls) for n in shown]
    if more:
        items.append(f"... and {more} more, not shown: {hint}")
    title = describe.NOTE_TITLES.get(kind, markdown(kind))
    return f"#### {title} ({len(notes)})\n\n" + bullets(items)


def _note_item(n: Note, link_urls: bool = False) -> str:
    item = f"{_who(n.uid, n.name)} · {markdown(n.subject)}: {markdown(n.text)}"
    if n.since:
        item += f" · since {markdown(n.since[:10])}"
    if n.link_url and link_urls:
        item += f" · {escape.markdown(n.link_url)}"  # asked for: shown as it is
    return item
