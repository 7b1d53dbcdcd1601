"""`audit`: a read-only drift report. Exit 0 clean, 2 drift, 1 error."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconcile.audit.model import FindingKind
from reconcile.cli.exits import EXIT_CHANGES, EXIT_OK, fail
from reconcile.cli.exits import ExitOneOnUsageError as ExitOneOnUsageError
from reconcile.cli.inputs import load_desired
from reconcile.cli.options import (
    file_option,
    flag_option,
    format_option,
    link_urls_option,
    notify_options,
    paths_argument,
    paths_option,
    plan_options,
    sandbox_options,
)
from reconcile.cli.runner import run, run_sync

if TYPE_CHECKING:
    from reconcile.audit import Audit, FindingKind
    from reconcile.planner import PlanOptions
    from reconcile.runs.connect import Where

if TYPE_CHECKING:
    ParamType = click.ParamType[Any, Any]
else:  # click < 8.2 has no generic ParamType at run time
    ParamType = click.ParamType

KINDS = tuple(kind.value for kind in FindingKind)  # most urgent first
DEFAULT_FAIL_ON = (
    "cut_off,changes,follow_ups,refused,duplicates,foreign,needs_reauthorization,connection_errors,"
    "stale_authorization,at_risk,degraded,missing_references,account_settings"
)


class KindList(ParamType):
    name = "KIND,..."

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, frozenset):
            return value
        from reconcile.audit import FindingKind

        words = [w.strip() for w in str(value).split(",") if w.strip()]
        unknown = [w for w in words if w not in KINDS]
        if unknown:
            self.fail(
                f"unknown kind(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}",
                param,
                ctx,
            )
        return frozenset(FindingKind(w) for w in words)


class Duration(ParamType):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        from reconcile.durations import parse_duration

        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.command(cls=ExitOneOnUsageError)
@paths_argument
@sandbox_options
@plan_options
@format_option(
    "text",
    "json",
    "markdown",
    "html",
    help="markdown: an issue body or chat message; html: one static page (the watch's status "
    "report: funnel, who waits, each customer) for a CI artifact, never with Link URLs.",
)
@click.option(
    "--fail-on",
    type=KindList(),
    default=DEFAULT_FAIL_ON,
    show_default=True,
    help="Finding kinds that count as drift (exit 2); the others are reported only.",
)
@click.option(
    "--stale-after",
    type=Duration(),
    default="14d",
    show_default=True,
    help="PendingAuth older than this is stale_authorization (e.g. 7d, 36h, 90m).",
)
@file_option(
    "--json-out",
    help="Also write the JSON report to FILE, mode 0600 (one read, two outputs: e.g. Markdown "
    "for an issue and JSON for an artifact, or for the next run's --since).",
)
@file_option(
    "--since",
    "since_path",
    help="An earlier JSON report: mark each finding new or not, and count the resolved ones.",
)
@link_urls_option(
    "Include the Link URLs and company ids of customers awaiting authorization: in "
    "--json-out's file (mode 0600), and on standard output when it is a terminal. Anyone who "
    "opens one can authorize that company: never post them to a pull request, an issue or a "
    "CI log."
)
@notify_options
@paths_option(
    "--base",
    help="The customers files as last applied (repeatable; read offline): a customer they "
    "list whose company is gone was deleted outside the tool, reported as cut_off.",
)
@flag_option(
    "--only-new",
    "With --since: report only the findings that are not in the earlier report (the exit "
    "code too: 2 when a new finding counts as drift).",
)
@flag_option(
    "--verbose",
    "Name every finding (by default each kind names its first few in text, and the "
    "awaiting list is counted by age with its oldest named).",
)
@flag_option(
    "--health",
    "Also read each customer's health: Codat's data status per Linked company, whether its "
    "expense config's records still exist, and the account's sync schedules (one request per "
    "Linked company, three more per config, plus one).",
)
@click.option(
    "--at-risk-after",
    type=Duration(),
    default="30d",
    show_default=True,
    help="With --health: no successful sync for this long is at_risk (Codat deauthorizes a "
    "connection after 90 days).",
)
def audit(
    paths: tuple[Path, ...],
    where: Where,
    options: PlanOptions,
    fmt: str,
    fail_on: frozenset[FindingKind],
    stale_after: timedelta,
    json_out: Path | None,
    since_path: Path | None,
    link_urls: bool,
    notify_file: Path | None,
    state_dir: Path,
    base: tuple[Path, ...],
    only_new: bool,
    verbose: bool,
    health: bool,
    at_risk_after: timedelta,
) -> None:
    """Read-only drift report: exit 0 clean, 2 drift, 1 error. Sends nothing but GET."""
    if only_new and since_path is None:
        fail("--only-new needs --since REPORT.json (the earlier report to compare with)")
    from reconcile.cli.link_urls import check_link_urls
    from reconcile.render.reading import codat_line, files_line
    from reconcile.runs.audit import Reading
    from reconcile.runs.audit import audit as audit_run
    from reconcile.runs.notify import load_notify

    # Off a terminal, --link-urls puts them in --json-out's private file only.
    shown = check_link_urls(
        link_urls,
        file_option="--json-out FILE (with --link-urls)",
        to_file=json_out is not None,
    )
    desired = load_desired(paths, where)
    # Before any request: a bad notifications file stops here.
    notify = run_sync(lambda: load_notify(notify_file, state_dir))
    if base:
        from dataclasses import replace

        from reconcile.cli.review import existed_before

        options = replace(options, existed=existed_before(base, desired))
    earlier = None
    if since_path is not None:
        from reconcile.audit.since import ReportError, read_report

        try:
            earlier = read_report(since_path)
        except ReportError as exc:
            fail(str(exc))
    click.echo(files_line(desired, environment=False), err=True)

    def said(companies: int, requests: int) -> None:
        click.echo(codat_line(companies, requests, "companies in the account"), err=True)

    def say(line: str) -> None:
        click.echo(line, err=True)

    done = run(
        audit_run(
            where,
            desired,
            options,
            fail_on=fail_on,
            stale_after=stale_after,
            on_read=said,
            notify=notify,
            log=say,
            reading=Reading(health=health, at_risk_after=at_risk_after),
        )
    )
    report = done.report
    if earlier is not None:
        from reconcile.audit.since import mark_new

        report = mark_new(report, earlier)
    if json_out is not None:  # every finding: the next run's --since compares with all of them
        from reconcile.cli.private_files import write_private

        write_private(json_out, _render(report, "json", link_urls, verbose))
    if only_new:
        from dataclasses import replace

        report = replace(report, findings=report.new)
    if fmt == "html":  # never a Link URL, whatever --link-urls says (it fills --json-out)
        from reconcile.render.audit_html import render_audit_html

        click.echo(render_audit_html(report, done.onboarding), nl=False)
    else:
        click.echo(_render(report, fmt, shown, verbose), nl=False)
    sys.exit(EXIT_CHANGES if report.drift else EXIT_OK)


def _render(report: Audit, fmt: str, link_urls: bool, verbose: bool) -> str:
    if fmt == "json":
        from reconcile.render.audit_json import render_audit_json

        return render_audit_json(report, link_urls=link_urls)
    if fmt == "markdown":
        from reconcile.render.audit_markdown import render_audit_markdown

        return render_audit_markdown(report, link_urls=link_urls, verbose=verbose)
    from reconcile.render.audit_text import render_audit_text
    from reconcile.render.style import Style

    return render_audit_text(
        report, Style.for_stream(sys.stdout), link_urls=link_urls, verbose=verbose
    )
