"""`audit`: a read-only drift report. Exit 0 clean, 2 drift, 1 error."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconcile.audit.model import FindingKind
from reconcile.cli.common import (
    EXIT_CHANGES,
    EXIT_OK,
    Where,
    fail,
    format_option,
    load_desired,
    open_client,
    paths_argument,
    plan_options,
    run,
    sandbox_options,
)
from reconcile.cli.exits import ExitOneOnUsageError as ExitOneOnUsageError

if TYPE_CHECKING:
    from reconcile.audit import Audit, FindingKind
    from reconcile.planner import PlanOptions
    from reconcile.plans.settings import SettingsChange


if TYPE_CHECKING:
    ParamType = click.ParamType[Any, Any]
else:  # click < 8.2 has no generic ParamType at run time
    ParamType = click.ParamType

KINDS = tuple(kind.value for kind in FindingKind)  # most urgent first
DEFAULT_FAIL_ON = (
    "changes,follow_ups,refused,duplicates,foreign,needs_reauthorization,connection_errors,"
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
@format_option
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
@click.option(
    "--json-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON report to FILE, mode 0600 (one read, two outputs: e.g. Markdown "
    "for an issue and JSON for an artifact, or for the next run's --since).",
)
@click.option(
    "--since",
    "since_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An earlier JSON report: mark each finding new or not, and count the resolved ones.",
)
@click.option(
    "--link-urls",
    is_flag=True,
    help="Include the Link URLs of customers awaiting authorization. Anyone who opens one can "
    "authorize that company: never post them to a pull request or an issue.",
)
@click.option(
    "--health",
    is_flag=True,
    help="Also read each customer's health: Codat's data status per Linked company, whether its "
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
    health: bool,
    at_risk_after: timedelta,
) -> None:
    """Read-only drift report: exit 0 clean, 2 drift, 1 error. Sends nothing but GET."""
    from reconcile.audit import build_audit
    from reconcile.audit.read import SnapshotClient, read_for_audit

    desired = load_desired(paths, where)
    earlier = None
    if since_path is not None:
        from reconcile.audit.since import ReportError, read_report

        try:
            earlier = read_report(since_path)
        except ReportError as exc:
            fail(str(exc))
    files = ", ".join(desired.files) or "input"
    click.echo(
        f"Reading {files}: {len(desired.customers)} customers, owner {desired.owner}", err=True
    )

    async def go() -> Audit:
        async with open_client(where, SnapshotClient, desired=desired) as client:
            assert isinstance(client, SnapshotClient)
            read = await read_for_audit(client, desired)
            healths = None
            if health:
                from reconcile.audit.health_read import read_audit_health

                read, healths = await read_audit_health(client, desired, read, at_risk_after)
            settings: tuple[SettingsChange, ...] = ()
            if desired.environment is not None:
                from reconcile.cli.account_settings import planned_settings

                settings = await planned_settings(client, desired)
            sent = client.requests_sent
        known = {c.uid for c in desired.customers} | {c.uid for c in read.companies if c.uid}
        unknown = options.targets - known
        if unknown:
            fail(f"--target names unknown customer(s): {', '.join(sorted(unknown))}")
        requests = f"{sent} request{'s' if sent != 1 else ''}"
        click.echo(
            f"Reading Codat: {len(read.companies)} companies in the account ({requests})",
            err=True,
        )
        return build_audit(
            desired,
            read,
            options=options,
            fail_on=fail_on,
            stale_after=stale_after,
            health=healths,
            requests=sent,
            settings=settings,
        )

    report = run(go())
    if earlier is not None:
        from reconcile.audit.since import mark_new

        report = mark_new(report, earlier)
    if json_out is not None:
        from reconcile.cli.private_files import write_private

        write_private(json_out, _render(report, "json", link_urls))
    click.echo(_render(report, fmt, link_urls), nl=False)
    sys.exit(EXIT_CHANGES if report.drift else EXIT_OK)


def _render(report: Audit, fmt: str, link_urls: bool) -> str:
    if fmt == "json":
        from reconcile.render.audit_json import render_audit_json

        return render_audit_json(report, link_urls=link_urls)
    if fmt == "markdown":
        from reconcile.render.audit_markdown import render_audit_markdown

        return render_audit_markdown(report, link_urls=link_urls)
    from reconcile.render.audit_text import render_audit_text
    from reconcile.render.style import Style

    return render_audit_text(report, Style.for_stream(sys.stdout), link_urls=link_urls)
