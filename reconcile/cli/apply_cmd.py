"""`apply`: make Codat match the file.

`apply PATHS...` plans, shows the plan, asks for 'yes', then runs it (`reconcile.runs.apply`):
execution, progress on stderr, interrupts, the summary and the exit code.

`apply --plan FILE [PATHS...]` (or `apply FILE` whose content is unmistakably a plan) runs a
saved plan instead (`reconcile.cli.saved_plans`).

Link URLs (and company ids: the id of a company awaiting authorization is one) are not printed
by default: standard output is often a CI log. `--link-urls-out FILE` writes them to a file only
its owner reads; `--link-urls` shows them on a terminal (`reconcile.cli.link_urls`).

Exit codes: 0 everything applied; 1 something failed, was refused or skipped, or Codat's daily
quota ran out; 2 with --detailed-exitcode when everything applied but the plan holds refusals;
130 after Ctrl-C (SIGINT), 143 after SIGTERM (the summary so far is printed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from reconcile.cli.exits import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, fail
from reconcile.cli.inputs import load_desired
from reconcile.cli.link_urls import check_link_urls, write_link_urls
from reconcile.cli.options import (
    file_option,
    flag_option,
    format_option,
    link_url_options,
    parallelism_option,
    plan_options,
    sandbox_options,
)
from reconcile.cli.reading import say_read, say_reading
from reconcile.cli.runner import run

if TYPE_CHECKING:
    from reconcile.executor import ApplyResult, Stop
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan
    from reconcile.render.progress import Progress
    from reconcile.render.style import Style
    from reconcile.runs.connect import Where
    from reconcile.runs.plan import PlanRun
    from reconcile.runs.saved_apply import RunPlan

HEARTBEAT_SECONDS = 30.0


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@sandbox_options
@plan_options
@flag_option("--auto-approve", "Apply without asking for 'yes'.")
@parallelism_option("Customers worked on at once (at most this many requests in flight).")
@flag_option("--fail-fast", "Stop starting new customers after a failure.")
@format_option(
    "text", "json", help="json: the plan and progress go to stderr, the result document to stdout."
)
@file_option(
    "--plan",
    "planfile",
    help="Apply exactly this saved plan (from `plan --out`); PATHS are the files as they are "
    "now, to check the plan's customers did not change in them (required for a plan made with "
    "--env: the environment's account, base_url and api_key_env come from them, never from "
    "the plan).",
)
@flag_option(
    "--detailed-exitcode",
    "Exit 2 when everything applied but the plan holds refusals.",
)
@link_url_options
def apply(
    paths: tuple[Path, ...],
    where: Where,
    options: PlanOptions,
    auto_approve: bool,
    parallelism: int,
    fail_fast: bool,
    fmt: str,
    planfile: Path | None,
    detailed_exitcode: bool,
    link_urls: bool,
    link_urls_out: Path | None,
) -> None:
    """Make Codat match the file; or `apply --plan FILE`: exactly a saved plan, no prompt."""
    from reconcile.cli.saved_plans import apply_saved, is_plan_file
    from reconcile.render.style import Style
    from reconcile.render.text import render_plan

    check_link_urls(link_urls)
    run_plan = applier(
        parallelism=parallelism,
        fail_fast=fail_fast,
        fmt=fmt,
        style=Style.for_stream(sys.stdout),
        detailed_exitcode=detailed_exitcode,
        link_urls=link_urls,
        link_urls_out=link_urls_out,
    )
    if planfile is None and paths and is_plan_file(paths[0]):  # unmistakably a plan
        planfile, paths = paths[0], paths[1:]
    if planfile is not None:
        apply_saved(
            planfile,
            paths,
            where,
            options,
            run_plan,
            detailed_exitcode=detailed_exitcode,
            fmt=fmt,
        )
    if not paths:
        fail("apply needs the customers files (PATH...), or a saved plan: apply --plan FILE")
    from reconcile.runs.apply import apply_files

    desired = load_desired(paths, where)
    plan_stream = sys.stderr if fmt == "json" else sys.stdout
    cancelled: list[bool] = []

    def approve(made: PlanRun) -> bool:
        shown = render_plan(made.plan, Style.for_stream(plan_stream), link_urls=link_urls)
        click.echo(shown, nl=False, file=plan_stream)
        if desired.environment is not None:  # the account settings' changes, as the plan's
            from reconcile.render.settings import render_settings

            settings = render_settings(
                made.settings, desired.environment, Style.for_stream(plan_stream)
            )
            click.echo(settings, nl=False, file=plan_stream)
        if not made.plan.has_changes and not made.settings:
            return False
        if not auto_approve and not confirm():
            cancelled.append(True)
            return False
        return True

    def settings_applied(count: int) -> None:
        click.echo(f"Applied {count} account settings change(s).", err=True)

    say_reading(desired)
    made, code = run(
        apply_files(
            where,
            desired,
            options,
            run_plan,
            approve=approve,
            on_read=say_read,
            prompted=not auto_approve,
            on_settings=settings_applied,
        )
    )
    if code is not None:
        sys.exit(code)
    if cancelled:
        click.echo("Apply cancelled; nothing was changed.", err=True)
        sys.exit(EXIT_ERROR)
    from reconcile.executor import ApplyResult
    from reconcile.render.apply import link_entries, result_document

    code = EXIT_CHANGES if detailed_exitcode and made.plan.refused else EXIT_OK
    if link_urls_out is not None:
        write_link_urls(link_urls_out, link_entries(made.plan, ApplyResult()))
    if fmt == "json":
        document = result_document(made.plan, ApplyResult(), code, link_urls=link_urls)
        click.echo(json.dumps(document, indent=2))
    sys.exit(code)


def confirm() -> bool:
    """Terraform's question: only the word 'yes' applies (from a terminal or a pipe)."""
    click.echo("Do you want to apply these changes? Only 'yes' will be accepted.", err=True)
    try:
        answer = click.prompt("Enter a value", default="", show_default=False, err=True)
    except click.Abort:
        return False
    return bool(answer.strip() == "yes")


def applier(
    *,
    parallelism: int,
    fail_fast: bool,
    fmt: str,
    style: Style,
    heartbeat: float = HEARTBEAT_SECONDS,
    detailed_exitcode: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    link_urls: bool = False,
    link_urls_out: Path | None = None,
) -> RunPlan:
    """How this command runs an already-made (and approved) plan: progress on `err`, the
    summary (or with fmt "json" the result document) on `out`; the run returns the exit code.

    The first SIGINT or SIGTERM starts nothing new and lets the requests in flight finish,
    then the summary so far is printed (exit 130 or 143); a second one exits at once. When
    Codat's daily quota runs out, the same happens by itself (exit 1) and the summary says when
    the quota resets. Link URLs and company ids reach `out` only with `link_urls` (the caller
    checked it is a terminal); `link_urls_out` names a private file for them."""
    from reconcile.render.progress import for_stream
    from reconcile.render.style import Style
    from reconcile.runs.apply import runner

    def streams() -> tuple[TextIO, TextIO]:
        return out or sys.stdout, err or sys.stderr

    def at_once(signum: int) -> None:
        e = streams()[1]
        e.write("\nExiting at once; requests in flight may have landed: run plan.\n")
        e.flush()

    def done(plan: Plan, result: ApplyResult, code: int) -> None:
        o, e = streams()
        if link_urls_out is not None:
            from reconcile.render.apply import link_entries

            write_link_urls(link_urls_out, link_entries(plan, result))
        show_result(plan, result, code, fmt=fmt, style=style, out=o, err=e, link_urls=link_urls)

    def progress() -> Progress:
        e = streams()[1]
        return for_stream(e, Style.for_stream(e), heartbeat)

    return runner(
        parallelism=parallelism,
        fail_fast=fail_fast,
        progress=progress,
        stop_note=_stopping,
        at_once=at_once,
        on_done=done,
        detailed_exitcode=detailed_exitcode,
    )


def show_result(
    plan: Plan,
    result: ApplyResult,
    code: int,
    *,
    fmt: str,
    style: Style,
    out: TextIO,
    err: TextIO,
    link_urls: bool = False,
) -> None:
    from reconcile.render.apply import render_summary, result_document
    from reconcile.render.style import Style

    if fmt == "json":
        err.write(render_summary(plan, result, Style.for_stream(err)))
        document = result_document(plan, result, code, link_urls=link_urls)
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(render_summary(plan, result, style, link_urls=link_urls))
    out.flush()


def _stopping(stop: Stop) -> str:
    if stop.reason == "quota":
        return "Codat's daily quota is used up: starting nothing new; requests in flight finish."
    if stop.reason in ("interrupt", "terminate"):
        again = " (Ctrl-C again to exit at once)" if stop.reason == "interrupt" else ""
        return f"Stopping: starting nothing new; requests in flight finish{again}."
    return "Stopping after a failure (--fail-fast): starting nothing new."
