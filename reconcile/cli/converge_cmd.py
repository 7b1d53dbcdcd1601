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
from reconcile.cli.private_files import write_private

if TYPE_CHECKING:
    from reconcile.converge import PassResult
    from reconcile.executor import Stopper


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
@click.option(
    "--link-urls",
    is_flag=True,
    help="Show the Link URLs of customers awaiting authorization. Anyone who opens one can "
    "authorize that company: never post them to a pull request or an issue.",
)
@click.option(
    "--link-urls-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the customers awaiting authorization with their Link URLs to FILE (JSON, "
    "mode 0600), for the operator to send.",
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
) -> None:
    """One pass: read Codat, plan, apply only what policy.auto allows; report what waits."""
    from reconcile.converge import run_pass
    from reconcile.planner import PlanOptions
    from reconcile.render.converge import link_urls_of, pass_document, render_pass, waiting_list
    from reconcile.render.style import Style

    desired = load_desired(paths, where)
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
                return await run_pass(
                    desired,
                    client,
                    company_ids=company_ids or None,
                    options=options,
                    parallelism=parallelism,
                    stopper=stopper,
                )
        finally:
            restore()

    result = run(go())
    stop = result.applied.stopped
    code = exit_code(result)
    if link_urls_out is not None:
        doc = waiting_list(result.classified.customer, links=link_urls_of(result.plan.notes))
        write_private(link_urls_out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if fmt == "json":
        document = pass_document(result, code, link_urls=link_urls)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(render_pass(result, Style.for_stream(sys.stdout), link_urls=link_urls), nl=False)
    if stop is not None:
        click.echo(f"Stopped: {stop.detail or stop.reason}", err=True)
    sys.exit(code)


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
