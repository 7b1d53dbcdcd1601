"""`converge`: one pass that applies only what the file's `policy.auto` pre-approves.

Exit codes: 0 nothing waits for a review or a person (the customer may still have to
authorize); 2 something does, or an allowed action did not land; 1 error (bad input, Codat
unreadable, the daily quota used up); 130 / 143 after SIGINT / SIGTERM (as apply: nothing new
starts, what is in flight finishes, the report so far is printed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.inputs import load_desired
from reconcile.cli.link_urls import check_link_urls, write_link_urls
from reconcile.cli.options import (
    format_option,
    link_url_options,
    notify_options,
    parallelism_option,
    paths_argument,
    sandbox_options,
    target_option,
)
from reconcile.cli.runner import run, run_sync

if TYPE_CHECKING:
    from reconcile.runs.connect import Where


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
@target_option("Only these customers.")
@parallelism_option("Customers worked on at once.")
@format_option(
    "text",
    "json",
    help="json: the pass as a document on stdout (what waits, grouped by who must act).",
)
@link_url_options
@notify_options
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
    from reconcile.planner import PlanOptions
    from reconcile.render.converge import link_urls_of, pass_document, render_pass, waiting_list
    from reconcile.render.reading import files_line
    from reconcile.render.style import Style
    from reconcile.runs.converge import converge as converge_run
    from reconcile.runs.converge import exit_code
    from reconcile.runs.notify import load_notify

    check_link_urls(link_urls)
    desired = load_desired(paths, where)
    # Before any request: a bad notifications file stops here.
    notify = run_sync(lambda: load_notify(notify_file, state_dir))
    auto = ", ".join(sorted(desired.policy.auto)) or "nothing"
    click.echo(f"{files_line(desired)}; policy.auto: {auto}", err=True)
    options = PlanOptions(targets=frozenset(targets))

    def say(line: str) -> None:
        click.echo(line, err=True)

    def at_once(signum: int) -> None:
        click.echo("\nExiting at once; requests in flight may have landed: run converge.", err=True)

    result = run(
        converge_run(
            where,
            desired,
            company_ids=company_ids,
            options=options,
            parallelism=parallelism,
            at_once=at_once,
            notify=notify,
            log=say,
        )
    )
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
