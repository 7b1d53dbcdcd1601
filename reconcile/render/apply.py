"""What an apply did, in the plan's words: per-customer lines, the summary, the JSON document.

Never the executor's internal kind names in text: "created accounting connection Xero (gbol)",
"unlinked partner expense connection", "failed to create company: ...". Every string from the
file or from Codat (names, subjects, Codat's error messages) is escaped. Rendering decides
nothing: the exit code and the stop reason come in with the result.

Apply's standard output lands in CI logs: by default it shows no Link URL and no company id
(`reconcile.render.bearer`: the id of a company awaiting authorization is a Link URL); the
customer's uid identifies it. `link_urls=True` (`--link-urls`, on a terminal only) shows both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from reconcile.escape import quoted, text
from reconcile.executor import ApplyResult, Outcome, OutcomeStatus, Stop
from reconcile.plans import CustomerChange, Kind, Plan
from reconcile.render.bearer import hidden_or, hide
from reconcile.render.style import Style

FORMAT_VERSION = "1"
PLAIN = Style()
# How many entries each list of the summary shows (the JSON document has them all).
LIST_LIMIT = 50

_VERB: dict[Kind, str] = {
    Kind.CREATE_COMPANY: "create",
    Kind.UPDATE_COMPANY: "update",
    Kind.DELETE_COMPANY: "delete",
    Kind.CREATE_CONNECTION: "create",
    Kind.UNLINK_CONNECTION: "unlink",
    Kind.DELETE_CONNECTION: "delete",
    Kind.CREATE_PARTNER_EXPENSE: "create",
    Kind.SET_EXPENSE_CONFIG: "set",
    Kind.REFRESH_DATA: "refresh",
}
_PAST = {"create": "created", "update": "updated", "delete": "deleted", "unlink": "unlinked"}
_PAST["set"] = "set"
_PAST["refresh"] = "refreshed"
# The summary's words for the plan's buckets.
_BUCKET_PAST = {"create": "created", "update": "updated", "unlink": "unlinked", "delete": "deleted"}
# The summary's lists, in order: which outcomes, their title, their colours.
_LISTS: tuple[tuple[OutcomeStatus, str, tuple[str, ...]], ...] = (
    ("failed", "Failed", ("red", "bold")),
    ("refused", "Refused (Codat changed since the plan)", ("red", "bold")),
    ("skipped", "Skipped", ("bold",)),
)
_QUIET_DETAILS = frozenset({"", "confirmed by re-reading"})


def describe(outcome: Outcome, *, show_ids: bool = False) -> str:
    """One action's result: `created accounting connection QuickBooks Online (qhyg)`. The
    company id a create made, and any id or Link URL in Codat's words, only with `show_ids`."""
    words = _describe(outcome, show_ids)
    return words if show_ids else hide(words)


def _describe(outcome: Outcome, show_ids: bool) -> str:
    action = outcome.action
    verb = _VERB[action.kind]
    subject = text(action.subject)
    if outcome.status == "applied":
        words = f"{_PAST[verb]} {subject}"
        if action.kind is Kind.CREATE_COMPANY and outcome.company_id and show_ids:
            words += f" {text(outcome.company_id)}"
        if outcome.connection_id and action.kind is not Kind.UNLINK_CONNECTION and show_ids:
            words += f" {text(outcome.connection_id)}"
        if outcome.detail not in _QUIET_DETAILS:
            words += f" ({text(outcome.detail)})"
        return words
    if outcome.status == "not_started":
        return f"did not start: {verb} {subject}"
    lead = {"failed": "failed to", "refused": "refused to", "skipped": "skipped:"}[outcome.status]
    return f"{lead} {verb} {subject}: {text(outcome.detail)}"


def customer_line(change: CustomerChange, outcomes: Sequence[Outcome]) -> str:
    """`cus-0001 "Sawayn Group": created company 095f..., created accounting connection ...`"""
    return f"{who(change.uid, change.name)}: " + ", ".join(describe(o) for o in outcomes)


def who(uid: str, name: str) -> str:
    return f"{text(uid)} {quoted(name)}"


def applied_counts(result: ApplyResult) -> dict[str, int]:
    """Applied actions by what they did: created, updated, unlinked, deleted."""
    counts = dict.fromkeys(_BUCKET_PAST.values(), 0)
    for o in result.of("applied"):
        counts[_BUCKET_PAST[o.action.kind.bucket]] += 1
    return counts


LINKS_HINT = (
    "  (their Link URLs: apply --link-urls-out FILE writes them to a file only you can read; "
    "--link-urls shows them on a terminal)"
)


def render_summary(
    plan: Plan, result: ApplyResult, style: Style = PLAIN, *, link_urls: bool = False
) -> str:
    """The end of an apply: what failed, was refused, skipped or not started (with why), who
    now awaits authorization, then one line of counts, then (when the run was stopped) why and
    what to do. Link URLs and ids only with `link_urls`."""
    names = {c.uid: c.name for c in plan.changes}
    lines: list[str] = []
    for status, title, colours in _LISTS:
        chosen = result.of(status)
        if chosen:
            lines.append(style(f"{title} ({len(chosen)}):", *colours))
            lines.extend(
                _listed(
                    f"  {who(o.action.uid, names.get(o.action.uid, ''))}: "
                    + describe(o, show_ids=link_urls)
                    for o in chosen
                )
            )
            lines.append("")
    links = link_lines(plan, result, link_urls=link_urls)
    if links:
        lines.append(style(f"Awaiting customer authorization ({len(links)}):", "bold"))
        lines.extend(links)
        if not link_urls:
            lines.append(LINKS_HINT)
        lines.append("")
    refusals = refusal_lines(plan, style, link_urls=link_urls)
    if refusals:
        lines.extend([*refusals, ""])
    counts = applied_counts(result)
    tally = result.counts()
    head = "Apply complete" if result.stopped is None else "Apply stopped"
    line = (
        f"{head}: "
        + ", ".join(f"{n} {word}" for word, n in counts.items())
        + f"; {tally['failed']} failed, {tally['refused']} refused, {tally['skipped']} skipped"
    )
    if tally["not_started"]:
        line += f", {tally['not_started']} not started"
    if plan.refused:
        line += f"; {len(plan.refused)} refused by the plan"
    lines.append(style(line + ".", "bold"))
    if result.stopped is not None:
        lines.extend(stop_lines(result.stopped, result))
    out = "\n".join(lines) + "\n"
    return out if link_urls else hide(out, keep=plan.linked)


def link_lines(plan: Plan, result: ApplyResult, *, link_urls: bool = False) -> list[str]:
    """One line per accounting connection this run created: who, which, and with `link_urls`
    its Link URL (the customer opens it to authorize)."""
    names = {c.uid: c.name for c in plan.changes}
    return [
        f"  {who(o.action.uid, names.get(o.action.uid, ''))}  {text(o.action.subject)}"
        + (f"  {text(o.link_url)}" if link_urls else "")
        for o in result.of("applied")
        if o.link_url
    ]


def link_entries(plan: Plan, result: ApplyResult) -> list[dict[str, Any]]:
    """For `--link-urls-out` (a file only its owner reads): every customer awaiting
    authorization with its Link URL: the accounting connections this run created, then those
    the plan found awaiting (or needing re-authorization). Same fields as converge's list."""
    changes = {c.uid: c for c in plan.changes}
    by_action = {id(o.action): o for o in result.outcomes}
    entries: list[dict[str, Any]] = []
    for o in result.of("applied"):
        if not o.link_url:
            continue
        change = changes.get(o.action.uid)
        made = [by_action[id(a)] for a in change.actions if id(a) in by_action] if change else []
        company_id = next((m.company_id for m in made if m.company_id), o.action.company_id)
        entries.append(
            {
                "kind": "awaiting_authorization",
                "uid": o.action.uid,
                "name": change.name if change else "",
                "company_id": company_id or (change.company_id if change else None),
                "subject": o.action.subject,
                "connection_id": o.connection_id,
                "link_url": o.link_url,
            }
        )
    for note in plan.notes:
        if note.link_url and note.kind in ("awaiting_authorization", "needs_reauthorization"):
            change = changes.get(note.uid)
            entries.append(
                {
                    "kind": note.kind,
                    "uid": note.uid,
                    "name": note.name,
                    "company_id": change.company_id if change else None,
                    "subject": note.subject,
                    "connection_id": None,
                    "link_url": note.link_url,
                }
            )
    return entries


def refusal_lines(plan: Plan, style: Style = PLAIN, *, link_urls: bool = False) -> list[str]:
    """The plan's refusals (changes the file wants that safety forbade): never applied, never
    left out (ids and Link URLs in them are, unless `link_urls`)."""
    if not plan.refused:
        return []
    title = f"Refused by the plan, not applied ({len(plan.refused)}):"
    lines = [
        style(title, "red", "bold"),
        *_listed(
            f"  {who(r.uid, r.name)}: {text(r.subject)}: {text(r.reason)}" for r in plan.refused
        ),
    ]
    return lines if link_urls else [hide(line, keep=plan.linked) for line in lines]


def stop_lines(stop: Stop, result: ApplyResult) -> list[str]:
    applied = len(result.of("applied"))
    not_started = len(result.of("not_started"))
    if stop.reason == "quota":
        limit = f"{stop.limit} requests a day" if stop.limit is not None else "limit not given"
        return [
            f"Codat's daily quota is used up ({limit}); {resets(stop.resets_at)}.",
            f"{_n(applied, 'action')} applied, {not_started} not started.",
            "Run apply again after the reset.",
        ]
    if stop.reason in ("interrupt", "terminate"):
        signal = "Interrupted" if stop.reason == "interrupt" else "Terminated"
        return [
            f"{signal}: the requests in flight finished; {_n(applied, 'action')} applied, "
            f"{not_started} not started. Run plan to see what is left."
        ]
    skipped = len(result.of("skipped"))
    return [f"{text(stop.detail)}; {_n(skipped, 'action')} skipped."]


def resets(at: datetime | None) -> str:
    if at is None:
        return "Codat did not say when it resets"
    local = at.astimezone()
    return (
        f"it resets at {local:%Y-%m-%d %H:%M} {local.tzname() or 'local'} "
        f"({at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _listed(lines: Iterable[str]) -> list[str]:
    shown = list(lines)
    if len(shown) <= LIST_LIMIT:
        return shown
    rest = len(shown) - LIST_LIMIT
    return [*shown[:LIST_LIMIT], f"  ... and {rest} more (all of them: apply --format json)"]


# ---------------------------------------------------------------------- JSON


def result_document(
    plan: Plan,
    result: ApplyResult,
    exit_code: int,
    status: str | None = None,
    *,
    link_urls: bool = False,
) -> dict[str, Any]:
    """The machine-readable result of `apply --format json`.

    Fields (format_version "1"):

    - `format_version`: "1".
    - `owner`: the plan's owner.
    - `status`: "complete" (everything applied), "failed" (something failed, was refused or
      skipped), "quota_exhausted", "interrupted" (SIGINT) or "terminated" (SIGTERM); for a
      saved plan with nothing left to send, "already_applied" or "no_changes".
    - `exit_code`: the process's exit code (0, 1, 130 or 143).
    - `summary`: counts: `created`, `updated`, `unlinked`, `deleted` (applied actions by what
      they did), `failed`, `refused`, `skipped`, `not_started`.
    - `quota`: when the daily quota stopped the run, `{"limit": int|null, "resets_at": ISO
      8601 UTC|null}`; otherwise null.
    - `customers`: one entry per customer of the plan, in the plan's order: `uid`, `name`,
      `company_id` (after the run: the company made, when one was; null unless
      `--link-urls`: the id of a company awaiting authorization is a Link URL), and `actions`: per
      action, `kind` (the plan's kind), `subject`, `status` ("applied", "failed", "refused",
      "skipped" or "not_started"), `result` (the same words as the text output), `detail`
      (why, or how it was confirmed), `correlation_id` (Codat's, for a failure it answered),
      `connection_id` (the connection acted on, or the one a create made), `link_url` (for
      an accounting connection this run created, with `--link-urls`: the URL the customer
      authorizes at; else null; `--link-urls-out FILE` writes them to a private file).
    - `plan_refusals`: the plan's refusals (`uid`, `name`, `subject`, `reason`): changes the
      file wants that safety forbade; `summary.refused_by_plan` counts them.

    Strings are as the file and Codat gave them (JSON escaping only), ids and Link URLs in
    them hidden unless `--link-urls`.
    """
    by_action = {id(o.action): o for o in result.outcomes}
    customers = []
    for change in plan.changes:
        outcomes = [by_action[id(a)] for a in change.actions if id(a) in by_action]
        company_id = next(
            (o.company_id for o in reversed(outcomes) if o.company_id), change.company_id
        )
        customers.append(
            {
                "uid": change.uid,
                "name": change.name,
                "company_id": hidden_or(company_id, link_urls),
                "actions": [_outcome_dict(o, link_urls) for o in outcomes],
            }
        )
    tally = result.counts()
    stop = result.stopped
    return {
        "format_version": FORMAT_VERSION,
        "owner": plan.owner,
        "status": status or _status(result),
        "exit_code": exit_code,
        "summary": {
            **applied_counts(result),
            "failed": tally["failed"],
            "refused": tally["refused"],
            "skipped": tally["skipped"],
            "not_started": tally["not_started"],
            "refused_by_plan": len(plan.refused),
        },
        "plan_refusals": [
            {"uid": r.uid, "name": r.name, "subject": r.subject, "reason": r.reason}
            for r in plan.refused
        ],
        "quota": (
            {
                "limit": stop.limit,
                "resets_at": stop.resets_at.astimezone(UTC).isoformat() if stop.resets_at else None,
            }
            if stop is not None and stop.reason == "quota"
            else None
        ),
        "customers": customers,
    }


def _status(result: ApplyResult) -> str:
    stop = result.stopped
    if stop is not None and stop.reason == "quota":
        return "quota_exhausted"
    if stop is not None and stop.reason == "interrupt":
        return "interrupted"
    if stop is not None and stop.reason == "terminate":
        return "terminated"
    return "complete" if result.ok else "failed"


def _outcome_dict(o: Outcome, link_urls: bool) -> dict[str, Any]:
    return {
        "kind": o.action.kind.value,
        "subject": o.action.subject,
        "status": o.status,
        "result": describe(o, show_ids=link_urls),
        "detail": o.detail if link_urls else hide(o.detail),
        "correlation_id": o.correlation_id,
        "connection_id": o.connection_id or o.action.connection_id,
        "link_url": hidden_or(o.link_url, link_urls),
    }
