"""`apply`: make Codat match the file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    Where,
    load_desired,
    open_client,
    paths_argument,
    plan_against,
    plan_options,
    run,
    sandbox_options,
)

if TYPE_CHECKING:
    from reconcile.planner import PlanOptions


@click.command()
@paths_argument
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
def apply(
    paths: tuple[Path, ...],
    where: Where,
    options: PlanOptions,
    auto_approve: bool,
    parallelism: int,
    fail_fast: bool,
) -> None:
    """Make Codat match the file."""
    from reconcile.executor import execute
    from reconcile.render.style import Style
    from reconcile.render.text import render_outcome, render_plan, render_result

    desired = load_desired(paths)
    style = Style.for_stream(sys.stdout)

    async def go() -> int:
        async with open_client(where) as client:
            the_plan = await plan_against(client, desired, options)
            click.echo(render_plan(the_plan, style), nl=False)
            if not the_plan.has_changes:
                return EXIT_OK
            if not auto_approve and not confirm():
                click.echo("Apply cancelled; nothing was changed.", err=True)
                return EXIT_ERROR
            result = await execute(
                the_plan,
                client,
                parallelism=parallelism,
                fail_fast=fail_fast,
                progress=lambda o: click.echo(render_outcome(o), err=True),
            )
            click.echo(render_result(result, style), nl=False)
            return EXIT_OK if result.ok else EXIT_ERROR

    sys.exit(run(go()))


def confirm() -> bool:
    """Terraform's question: only the word 'yes' applies (from a terminal or a pipe)."""
    click.echo("Do you want to apply these changes? Only 'yes' will be accepted.", err=True)
    try:
        answer = click.prompt("Enter a value", default="", show_default=False, err=True)
    except click.Abort:
        return False
    return bool(answer.strip() == "yes")
