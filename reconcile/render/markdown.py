"""The plan as a pull-request comment (GitHub or GitLab Markdown), and the helpers behind it.

`render_plan_markdown(plan)` lays out: a one-line verdict and a table of counts; the refusals
and warnings, where nobody can miss them; one folded `<details>` block per customer with its
changes in a ```diff block (so `+`/`-` are coloured; `!` marks a change); then the
awaiting-authorization, re-authorization, deferred and blocked lists, each capped at 20 entries,
oldest first.

Reusable helpers (the audit report is built with them too):

- Escaping, from `reconcile.render.escape`: `markdown(x)` for inline Markdown (lists, tables,
  headings), `html_text(x)` inside raw HTML such as `<summary>`, `code(x)` inside a fenced block.
  Every string that came from the file or from Codat goes through one of them.
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
from dataclasses import dataclass

from reconcile.plan import CustomerChange, Note, Plan
from reconcile.render import describe
from reconcile.render.describe import CODE, Row
from reconcile.render.escape import html_text, markdown

LIMIT = 65000
MD_LIST_HINT = "list them all with `reconcile plan ... --format json`, or `reconcile audit`"
_DIFF_SIGNS = {"+": "+", "~": "!", "-": "-"}


# ---------------------------------------------------------------------- reusable helpers


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


def render_plan_markdown(
    plan: Plan,
    *,
    full_plan_hint: str | None = None,
    limit: int = LIMIT,
    list_limit: int = describe.LIST_LIMIT,
    full_list_hint: str = MD_LIST_HINT,
    link_urls: bool = False,
) -> str:
    """The plan as a pull-request comment of at most `limit` characters. When customer blocks
    are left out, the comment says how many and where the full plan is (`full_plan_hint`,
    e.g. "the saved plan, in this run's artifacts"; escaped). Note lists show `list_limit`
    entries each, then `full_list_hint` (Markdown written by the program, not escaped).
    Link URLs are left out unless `link_urls`: anyone who opens one can authorize that company,
    and a pull-request comment is no place for it."""
    where = markdown(full_plan_hint) if full_plan_hint else "`reconcile plan ... --format json`"
    sections: list[str | Droppable] = [_head(plan)]
    if plan.refused:
        sections.append(_refused(plan))
    if plan.warnings:
        sections.append(_warnings(plan))
    if plan.changes:
        n = len(plan.changes)
        sections.append(f"#### Changes ({n} customer{'' if n == 1 else 's'})\n")
        sections.append(
            Droppable(
                [_customer(c) for c in plan.changes],
                lambda k: (
                    f"**{k} more customer{'' if k == 1 else 's'} with changes not shown "
                    f"(this comment is limited to {limit:,} characters): the full plan is "
                    f"{where}.**\n"
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
    return f"**{verdict}**\n\n{header}\n{rule}\n{values}\n"


def _who(uid: str, name: str) -> str:
    return f"**{markdown(uid)}** {markdown(_in_quotes(name))}"


def _in_quotes(name: str) -> str:
    return '"' + name + '"'


def _refused(plan: Plan) -> str:
    items = (
        f"{_who(r.uid, r.name)} · {markdown(r.subject)}: {markdown(r.reason)}" for r in plan.refused
    )
    return f"#### :no_entry: Refused ({len(plan.refused)})\n\n" + bullets(items)


def _warnings(plan: Plan) -> str:
    items = (markdown(w) for w in plan.warnings)
    return f"#### :warning: Warnings ({len(plan.warnings)})\n\n" + bullets(items)


def _customer(change: CustomerChange) -> str:
    header = describe.HEADERS.get(change.verdict, change.verdict)
    n = len(change.actions)
    summary = (
        f"{html_text(change.uid)} {html_text(_in_quotes(change.name))} "
        f"{html_text(header)} ({n} change{'' if n == 1 else 's'})"
    )
    lines = [_diff_line(row) for a in change.actions for row in describe.rows(a, CODE)]
    return details(summary, lines)


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
        item += f" · {markdown(n.link_url)}"
    return item
