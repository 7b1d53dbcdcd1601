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
from reconcile.cli.options import (
    format_option,
    link_urls_option,
    parallelism_option,
    paths_argument,
    sandbox_options,
    target_option,
)
from reconcile.cli.private_files import write_private
from reconcile.cli.runner import run

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
@link_urls_option(
    "Show the Link URLs of customers awaiting authorization. Anyone who opens one can "
    "authorize that company: never post them to a pull request or an issue."
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
    from reconcile.planner import PlanOptions
    from reconcile.render.converge import pass_document, render_pass, waiting_list
    from reconcile.render.reading import files_line
    from reconcile.render.style import Style
    from reconcile.runs.converge import converge as converge_run
    from reconcile.runs.converge import exit_code

    desired = load_desired(paths, where)
    auto = ", ".join(sorted(desired.policy.auto)) or "nothing"
    click.echo(f"{files_line(desired)}; policy.auto: {auto}", err=True)
    options = PlanOptions(targets=frozenset(targets))

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
        )
    )
    stop = result.applied.stopped
    code = exit_code(result)
    if link_urls_out is not None:
        doc = waiting_list(result.classified.customer, link_urls=True)
        write_private(link_urls_out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if fmt == "json":
        document = pass_document(result, code, link_urls=link_urls)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(render_pass(result, Style.for_stream(sys.stdout), link_urls=link_urls), nl=False)
    if stop is not None:
        click.echo(f"Stopped: {stop.detail or stop.reason}", err=True)
    sys.exit(code)
