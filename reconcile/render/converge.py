"""A converge pass for people (text) and for tools (a JSON document; watch's /status shape).

What was applied, then what waits and for whom: the customer (with each one's age), a review, a
person. Link URLs let anyone who opens them authorize a company, and the id of a company
awaiting authorization is one (`reconcile.render.bearer`), so neither is shown unless the caller
asks (`link_urls=True`); the customer's uid identifies it. Every string from the file or Codat
is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconcile.audit.diff import describe_diff, field_diff
from reconcile.converge.run import PassResult
from reconcile.durations import format_age
from reconcile.escape import quoted, text
from reconcile.model.who import Waiting
from reconcile.plans import REFRESH_HELD, Note
from reconcile.render.apply import describe
from reconcile.render.bearer import hidden_or, hide
from reconcile.render.style import Style

PLAIN = Style()
FORMAT_VERSION = "1"

# A waiting item's Link URL, found by `Waiting.link_key` (a Waiting never holds one).
Links = Mapping[tuple[str | None, str, str], str]


def link_urls_of(notes: Iterable[Note]) -> Links:
    """The Link URLs of a plan's notes, for the outputs that show them when asked."""
    return {(n.uid, n.kind, n.subject): n.link_url for n in notes if n.link_url}


HEADINGS = {
    "customer": "Waiting for the customer",
    "review": "Waiting for review (a reviewed apply)",
    "person": "Waiting for a person",
}


def render_pass(result: PassResult, style: Style = PLAIN, *, link_urls: bool = False) -> str:
    lines: list[str] = []
    outcomes = result.applied.outcomes
    applied = [o for o in outcomes if o.status == "applied"]
    if outcomes:
        lines.append(style(f"Applied ({len(applied)} of {len(outcomes)}):", "green", "bold"))
        for outcome in outcomes:
            lines.append(f"  {text(outcome.action.uid)}  {describe(outcome, show_ids=link_urls)}")
        lines.append("")
    links = link_urls_of(result.plan.notes) if link_urls else {}
    sorted_out = result.classified
    for who, items in (
        ("customer", sorted_out.customer),
        ("review", sorted_out.review),
        ("person", sorted_out.person),
    ):
        if not items:
            continue
        colour = ("bold",) if who == "customer" else ("yellow", "bold")
        lines.append(style(f"{HEADINGS[who]} ({len(items)}):", *colour))
        lines.extend(_waiting_line(w, links) for w in items)
        lines.append("")
    held = refresh_held(result.plan.notes)
    if held:
        lines.append(style(f"Refresh held (refresh_data, at most once per period) ({len(held)}):"))
        lines.extend(f"  {text(n.uid)} {quoted(n.name)}  {text(n.text)}" for n in held)
        lines.append("")
    if result.plan.warnings:
        lines.append(style(f"Warnings ({len(result.plan.warnings)}):", "yellow", "bold"))
        lines.extend(f"  {text(w)}" for w in result.plan.warnings)
        lines.append("")
    lines.append(summary_line(result))
    out = "\n".join(lines) + "\n"
    return out if link_urls else hide(out, keep=result.plan.linked)


def refresh_held(notes: Iterable[Note]) -> list[Note]:
    """The plan's notes on refreshes held: one in progress, or one requested within the period
    (`policy.refreshDataEvery`), as Codat's pull history says."""
    return [n for n in notes if n.kind == "deferred" and n.subject == REFRESH_HELD]


def _waiting_line(wait: Waiting, links: Links) -> str:
    who = f"{text(wait.uid)} {quoted(wait.name)}" if wait.uid else quoted(wait.name or "(plan)")
    if wait.who == "customer":
        age = f"for {format_age(wait.age)}" if wait.age is not None else "(since unknown)"
        what = (
            "awaiting authorization"
            if wait.kind == "awaiting_authorization"
            else ("needs re-authorization")
        )
        line = f"  {who}  {text(wait.subject)}  {what} {age}"
        if link := links.get(wait.link_key):
            line += f"  {text(link)}"
        return line
    line = f"  {who}  {text(wait.detail)}"
    action = wait.action
    if action is not None and action.before is not None and action.after is not None:
        diff = describe_diff(field_diff(action.before, action.after))
        if diff:
            line += f"\n      {text(diff)}"
    return line


def summary_line(result: PassResult) -> str:
    counts = result.applied.counts()
    failed = len(result.failed)
    c = result.classified
    scope = (
        f"{len(result.scope)} compan{'y' if len(result.scope) == 1 else 'ies'}"
        if (result.scope is not None)
        else "the fleet"
    )
    requests = f"{result.requests} request{'' if result.requests == 1 else 's'}"
    return (
        f"Converge ({scope}, {requests}): {counts['applied']} applied, "
        f"{failed} not done; waiting: {len(c.customer)} for the customer, {len(c.review)} for "
        f"review, {len(c.person)} for a person."
    )


def pass_document(
    result: PassResult, exit_code: int | None = None, *, link_urls: bool = False
) -> dict[str, Any]:
    """The JSON form: applied outcomes, then the waiting items grouped by who must act. Company
    ids and Link URLs only with `link_urls` (ids and URLs in free text are hidden too)."""
    c = result.classified
    links = link_urls_of(result.plan.notes) if link_urls else None
    return {
        "format_version": FORMAT_VERSION,
        "kind": "converge",
        "owner": result.plan.owner,
        "read_at": result.read_at.isoformat() if result.read_at else None,
        "scope": sorted(result.scope) if result.scope is not None else None,
        "requests": result.requests,
        "exit_code": exit_code,
        "applied": [
            {
                "uid": o.action.uid,
                "kind": o.action.kind.value,
                "subject": o.action.subject,
                "company_id": hidden_or(o.company_id or o.action.company_id, link_urls),
                "status": o.status,
                "detail": o.detail if link_urls else hide(o.detail),
                "correlation_id": o.correlation_id,
            }
            for o in result.applied.outcomes
        ],
        "waiting": {
            "customer": waiting_list(c.customer, links=links),
            "review": waiting_list(c.review, links=links),
            "person": waiting_list(c.person, links=links),
        },
        "refresh_held": [
            {"uid": n.uid, "name": n.name, "detail": n.text if link_urls else hide(n.text)}
            for n in refresh_held(result.plan.notes)
        ],
        "warnings": [w if link_urls else hide(w) for w in result.plan.warnings],
    }


def waiting_list(items: Sequence[Waiting], *, links: Links | None = None) -> list[dict[str, Any]]:
    """The JSON form of waiting items. With `links` (the Link URLs: `--link-urls-out`'s private
    file, or a terminal that asked) each carries `company_id` and `link_url` (null when it has
    none); without, company ids and URLs in free text are hidden."""
    shown = links is not None
    out = []
    for w in items:
        entry: dict[str, Any] = {
            "kind": w.kind,
            "uid": w.uid,
            "name": w.name,
            "company_id": hidden_or(w.company_id, shown),
            "subject": w.subject,
            "detail": w.detail if shown else hide(w.detail),
            "since": w.since,
            "age_seconds": int(w.age.total_seconds()) if w.age is not None else None,
        }
        if w.action is not None:
            entry["action"] = w.action.kind.value
        if links is not None:
            entry["link_url"] = links.get(w.link_key)
        out.append(entry)
    return out
