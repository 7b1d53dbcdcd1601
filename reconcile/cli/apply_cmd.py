"""`apply`: make Codat match the file.

`apply PATHS...` plans, shows the plan, asks for 'yes', then hands the plan to `apply_plan`,
which does everything that follows for an already-made plan (a saved plan too): execution,
progress on stderr, interrupts, the summary and the exit code.

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

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from reconcile.cli.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    Where,
    fail,
    load_desired,
    open_client,
    plan_against,
    plan_options,
    run,
    sandbox_options,
)
from reconcile.cli.link_urls import check_link_urls, link_url_options, write_link_urls

if TYPE_CHECKING:
    from reconcile.codat import CodatClient
    from reconcile.executor import ApplyResult, Stop, Stopper
    from reconcile.executor.outcome import StopReason
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan
    from reconcile.plans.settings import SettingsChange
    from reconcile.render.progress import Progress
    from reconcile.render.style import Style

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
HEARTBEAT_SECONDS = 30.0
TICK_SECONDS = 1.0


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@sandbox_options
@plan_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking for 'yes'.")
@click.option(
    "--parallelism",
    type=click.IntRange(1, 50),
    default=10,
    show_default=True,
    help="Customers worked on at once (at most this many requests in flight).",
)
@click.option("--fail-fast", is_flag=True, help="Stop starting new customers after a failure.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the plan and progress go to stderr, the result document to stdout.",
)
@click.option(
    "--plan",
    "planfile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Apply exactly this saved plan (from `plan --out`); PATHS are the files as they are "
    "now, to check the plan's customers did not change in them (required for a plan made with "
    "--env: the environment's account, base_url and api_key_env come from them, never from "
    "the plan).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when everything applied but the plan holds refusals.",
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
    if planfile is None and paths and is_plan_file(paths[0]):  # unmistakably a plan
        planfile, paths = paths[0], paths[1:]
    if planfile is not None:
        apply_saved(
            planfile,
            paths,
            where,
            options,
            lambda plan, client: apply_plan(
                plan,
                client,
                parallelism=parallelism,
                fail_fast=fail_fast,
                fmt=fmt,
                style=Style.for_stream(sys.stdout),
                detailed_exitcode=detailed_exitcode,
                link_urls=link_urls,
                link_urls_out=link_urls_out,
            ),
            detailed_exitcode=detailed_exitcode,
            fmt=fmt,
        )
    if not paths:
        fail("apply needs the customers files (PATH...), or a saved plan: apply --plan FILE")
    desired = load_desired(paths, where)
    plan_stream = sys.stderr if fmt == "json" else sys.stdout
    style = Style.for_stream(sys.stdout)

    async def go() -> int:
        async with open_client(where, desired=desired) as client:
            the_plan = await plan_against(client, desired, options)
            shown = render_plan(the_plan, Style.for_stream(plan_stream), link_urls=link_urls)
            click.echo(shown, nl=False, file=plan_stream)
            settings = await _settings(client, desired, plan_stream)
            if not the_plan.has_changes and not settings:
                from reconcile.executor import ApplyResult
                from reconcile.render.apply import link_entries, result_document

                code = EXIT_CHANGES if detailed_exitcode and the_plan.refused else EXIT_OK
                if link_urls_out is not None:
                    write_link_urls(link_urls_out, link_entries(the_plan, ApplyResult()))
                if fmt == "json":
                    document = result_document(the_plan, ApplyResult(), code, link_urls=link_urls)
                    click.echo(json.dumps(document, indent=2))
                return code
            if not auto_approve and not confirm():
                click.echo("Apply cancelled; nothing was changed.", err=True)
                return EXIT_ERROR
            if not auto_approve:
                client.restart_deadline()  # --timeout: the prompt's wait is not Codat's
            if settings:
                from reconcile.executor.settings import apply_settings

                await apply_settings(client, settings)  # first: new links fetch by them
                click.echo(f"Applied {len(settings)} account settings change(s).", err=True)
                if not the_plan.has_changes:
                    return EXIT_OK
            return await apply_plan(
                the_plan,
                client,
                parallelism=parallelism,
                fail_fast=fail_fast,
                fmt=fmt,
                style=style,
                detailed_exitcode=detailed_exitcode,
                link_urls=link_urls,
                link_urls_out=link_urls_out,
            )

    sys.exit(run(go()))


async def _settings(
    client: CodatClient, desired: DesiredState, stream: TextIO
) -> tuple[SettingsChange, ...]:
    """The account settings' changes of the run's environment, shown on `stream`."""
    if desired.environment is None:
        return ()
    from reconcile.cli.account_settings import planned_settings
    from reconcile.render.settings import render_settings
    from reconcile.render.style import Style

    changes = await planned_settings(client, desired)
    env = desired.environment
    click.echo(render_settings(changes, env, Style.for_stream(stream)), nl=False, file=stream)
    return changes


def confirm() -> bool:
    """Terraform's question: only the word 'yes' applies (from a terminal or a pipe)."""
    click.echo("Do you want to apply these changes? Only 'yes' will be accepted.", err=True)
    try:
        answer = click.prompt("Enter a value", default="", show_default=False, err=True)
    except click.Abort:
        return False
    return bool(answer.strip() == "yes")


async def apply_plan(
    plan: Plan,
    client: CodatClient,
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
) -> int:
    """Apply an already-made (and already approved) plan: progress on `err`, the summary (or
    with fmt "json" the result document) on `out`; returns the exit code.

    The first SIGINT or SIGTERM starts nothing new and lets the requests in flight finish,
    then the summary so far is printed (exit 130 or 143); a second one exits at once. When
    Codat's daily quota runs out, the same happens by itself (exit 1) and the summary says when
    the quota resets. Link URLs and company ids reach `out` only with `link_urls` (the caller
    checked it is a terminal); `link_urls_out` names a private file for them."""
    from reconcile.executor import Stopper, execute
    from reconcile.render.apply import link_entries, render_summary, result_document
    from reconcile.render.progress import for_stream
    from reconcile.render.style import Style

    out = out or sys.stdout
    err = err or sys.stderr
    err_style = Style.for_stream(err)
    progress = for_stream(err, err_style, heartbeat)
    stopper = Stopper(on_stop=lambda stop: progress.note(_stopping(stop)))
    progress.start(len(plan.actions))
    restore = _on_signals(stopper, err)
    ticker = asyncio.create_task(_tick(progress))
    try:
        result = await execute(
            plan,
            client,
            parallelism=parallelism,
            fail_fast=fail_fast,
            progress=progress.action,
            on_customer=progress.customer,
            stopper=stopper,
        )
    finally:
        ticker.cancel()
        restore()
        progress.finish()
    code = exit_code(result)
    if code == EXIT_OK and detailed_exitcode and plan.refused:
        code = EXIT_CHANGES  # applied, but the file wants what safety refused
    if link_urls_out is not None:
        write_link_urls(link_urls_out, link_entries(plan, result))
    if fmt == "json":
        err.write(render_summary(plan, result, err_style))
        document = result_document(plan, result, code, link_urls=link_urls)
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(render_summary(plan, result, style, link_urls=link_urls))
    out.flush()
    return code


def exit_code(result: ApplyResult) -> int:
    stop = result.stopped
    if stop is not None and stop.reason == "interrupt":
        return EXIT_INTERRUPTED
    if stop is not None and stop.reason == "terminate":
        return EXIT_TERMINATED
    return EXIT_OK if result.ok else EXIT_ERROR


def _stopping(stop: Stop) -> str:
    if stop.reason == "quota":
        return "Codat's daily quota is used up: starting nothing new; requests in flight finish."
    if stop.reason in ("interrupt", "terminate"):
        again = " (Ctrl-C again to exit at once)" if stop.reason == "interrupt" else ""
        return f"Stopping: starting nothing new; requests in flight finish{again}."
    return "Stopping after a failure (--fail-fast): starting nothing new."


async def _tick(progress: Progress) -> None:
    while True:
        await asyncio.sleep(TICK_SECONDS)
        progress.tick()


def _on_signals(stopper: Stopper, err: TextIO) -> Callable[[], None]:
    """SIGINT/SIGTERM stop the run gracefully; a second one exits at once. Returns the undo."""
    from reconcile.executor import Stop

    loop = asyncio.get_running_loop()

    received: list[int] = []

    def handle(signum: int) -> None:
        received.append(signum)
        if len(received) > 1:
            err.write("\nExiting at once; requests in flight may have landed: run plan.\n")
            err.flush()
            os._exit(EXIT_INTERRUPTED if signum == signal.SIGINT else EXIT_TERMINATED)
        reason: StopReason = "interrupt" if signum == signal.SIGINT else "terminate"
        stopper.set(Stop(reason, "interrupted" if reason == "interrupt" else "terminated"))

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, handle, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no support
            pass

    def restore() -> None:
        for signum in installed:
            loop.remove_signal_handler(signum)

    return restore
