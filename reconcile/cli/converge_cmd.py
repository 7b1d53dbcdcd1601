"""`converge`: one pass that applies only what the file's `policy.auto` pre-approves.

Exit codes: 0 nothing waits for a review or a person (the customer may still have to
authorize); 2 something does, or an allowed action did not land; 1 error (bad input, Codat
unreadable, the daily quota used up); 130 / 143 after SIGINT / SIGTERM (as apply: nothing new
starts, what is in flight finishes, the report so far is printed).
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    Where,
    load_desired,
    open_client,
    paths_argument,
    run,
    sandbox_options,
)
from reconcile.cli.link_urls import check_link_urls, link_url_options, write_link_urls
from reconcile.cli.notify_opts import load_notify

if TYPE_CHECKING:
    from reconcile.cli.notify_opts import Notifying
    from reconcile.codat import CodatClient
    from reconcile.converge import PassResult
    from reconcile.executor import Stopper
    from reconcile.model import DesiredState


@click.command()
@paths_argument
@sandbox_options
@click.option(
    "--company",
    "company_ids",
    multiple=True,
    metavar="ID",
    help="Converge only this company, read fresh (repeatable); default: the whole fleet.",
)
@click.option("--target", "targets", multiple=True, metavar="UID", help="Only these customers.")
@click.option(
    "--parallelism",
    type=click.IntRange(1, 50),
    default=10,
    show_default=True,
    help="Customers worked on at once.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the pass as a document on stdout (what waits, grouped by who must act).",
)
@link_url_options
@click.option(
    "--notify",
    "notify_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="The notifications file (the deployment's): tell the partner's app and the team what "
    "changed since the last run. Its state is kept in --state-dir (keep it between CI runs).",
)
@click.option(
    "--state-dir",
    default=".reconcile",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where --notify remembers what it told (so the next run repeats none).",
)
def converge(
    paths: tuple[Path, ...],
    where: Where,
    company_ids: tuple[str, ...],
    targets: tuple[str, ...],
    parallelism: int,
    fmt: str,
    link_urls: bool,
    link_urls_out: Path | None,
    notify_file: Path | None,
    state_dir: Path,
) -> None:
    """One pass: read Codat, plan, apply only what policy.auto allows; report what waits."""
    from reconcile.converge import run_pass
    from reconcile.planner import PlanOptions
    from reconcile.render.converge import link_urls_of, pass_document, render_pass, waiting_list
    from reconcile.render.style import Style

    check_link_urls(link_urls)
    desired = load_desired(paths, where)
    notify = load_notify(notify_file, state_dir)  # before any request: a bad file stops here
    files = ", ".join(desired.files) or "input"
    auto = ", ".join(sorted(desired.policy.auto)) or "nothing"
    click.echo(
        f"Reading {files}: {len(desired.customers)} customers, owner {desired.owner}"
        f"{f', environment {desired.environment}' if desired.environment else ''}; "
        f"policy.auto: {auto}",
        err=True,
    )
    options = PlanOptions(targets=frozenset(targets))

    async def go() -> PassResult:
        from reconcile.executor import Stopper

        stopper = Stopper()
        restore = _stop_on_signals(stopper)
        try:
            async with open_client(where, desired=desired) as client:
                result = await run_pass(
                    desired,
                    client,
                    company_ids=company_ids or None,
                    options=options,
                    parallelism=parallelism,
                    stopper=stopper,
                )
                if notify is not None:
                    await _notify(notify, client, desired, result)
                return result
        finally:
            restore()

    result = run(go())
    stop = result.applied.stopped
    code = exit_code(result)
    if link_urls_out is not None:
        links = link_urls_of(result.plan.notes)
        write_link_urls(link_urls_out, waiting_list(result.classified.customer, links=links))
    if fmt == "json":
        document = pass_document(result, code, link_urls=link_urls)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(render_pass(result, Style.for_stream(sys.stdout), link_urls=link_urls), nl=False)
    if stop is not None:
        click.echo(f"Stopped: {stop.detail or stop.reason}", err=True)
    sys.exit(code)


async def _notify(
    notify: Notifying, client: CodatClient, desired: DesiredState, result: PassResult
) -> None:
    from reconcile.notify.once import notify_once

    def say(line: str) -> None:
        click.echo(line, err=True)

    try:
        landed = await notify_once(notify.config, notify.store, client, desired, result, say)
    finally:
        notify.store.close()
    if landed:
        say(f"Notifications: {landed} sent")


def exit_code(result: PassResult) -> int:
    stop = result.applied.stopped
    if stop is not None and stop.reason in ("interrupt", "terminate"):
        return 128 + (signal.SIGINT if stop.reason == "interrupt" else signal.SIGTERM)
    if stop is not None:
        return EXIT_ERROR  # the quota ran out: this pass could not do its job
    return EXIT_CHANGES if result.needs_attention else EXIT_OK


def _stop_on_signals(stopper: Stopper) -> Callable[[], None]:
    """SIGINT/SIGTERM: start nothing new (in-flight writes finish). Returns the undo."""
    import asyncio

    from reconcile.executor import Stop

    loop = asyncio.get_running_loop()
    installed = []
    stops = {
        signal.SIGINT: Stop("interrupt", "interrupted"),
        signal.SIGTERM: Stop("terminate", "terminated"),
    }
    for signum, stop in stops.items():
        try:
            loop.add_signal_handler(signum, stopper.set, stop)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no support
            pass

    def restore() -> None:
        for signum in installed:
            loop.remove_signal_handler(signum)

    return restore
