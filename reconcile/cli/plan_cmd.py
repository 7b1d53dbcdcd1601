"""`plan`: what apply would change."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    Where,
    format_option,
    full_plan_hint_option,
    load_desired,
    open_client,
    paths_argument,
    plan_against,
    plan_options,
    run,
    sandbox_options,
)

if TYPE_CHECKING:
    from reconcile.plan import Plan
    from reconcile.planner import PlanOptions


@click.command()
@paths_argument
@sandbox_options
@plan_options
@format_option
@full_plan_hint_option
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes, 0 when it has none.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan to FILE, for `reconcile apply FILE` (signed with the API key).",
)
@click.option(
    "--base",
    "base",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="The same customers files as they are on the default branch (repeatable; read "
    "offline). A refusal about a customer whose entry differs from the base is new and makes "
    "the run exit 1; one that predates the change is shown and does not. With "
    "--format markdown the comment marks each and names the allowances in effect.",
)
def plan(
    paths: tuple[Path, ...],
    where: Where,
    options: PlanOptions,
    fmt: str,
    detailed_exitcode: bool,
    out: Path | None,
    full_plan_hint: str | None,
    base: tuple[Path, ...],
) -> None:
    """Show what apply would change (and with --out, save it to apply exactly that later)."""
    from reconcile.render.style import Style
    from reconcile.render.text import render_plan

    desired = load_desired(paths)
    changed: frozenset[str] | None = None
    if base:
        from reconcile.cli.review import changed_uids, load_base

        changed = changed_uids(load_base(base), desired)

    async def go() -> Plan:
        async with open_client(where) as client:
            made = await plan_against(client, desired, options, allow_unsafe=fmt == "json")
            if out is not None and made.unsafe:
                click.echo(f"The plan is refused as a whole; nothing was saved to {out}.", err=True)
            elif out is not None:
                from reconcile.cli.saved_plans import save_plan

                await save_plan(client, made, desired, out, where)
            return made

    the_plan = run(go())
    if fmt == "json":
        click.echo(the_plan.to_json(), nl=False)
    elif fmt == "markdown":
        from reconcile.cli.review import allowances
        from reconcile.render.markdown import Review, render_plan_markdown

        hint = full_plan_hint or (f"the saved plan {out} (reconcile show {out})" if out else None)
        review = Review() if changed is None else Review(allowances(options), changed)
        click.echo(render_plan_markdown(the_plan, full_plan_hint=hint, review=review), nl=False)
    else:
        click.echo(render_plan(the_plan, Style.for_stream(sys.stdout)), nl=False)
    if the_plan.unsafe:  # only reached with --format json: the document says why
        sys.exit(EXIT_ERROR)
    if changed is not None and the_plan.refused:
        from reconcile.cli.review import blocking

        new, old = blocking(the_plan, changed)
        click.echo(
            f"{new} refusal{'' if new == 1 else 's'} about customers this change touches, "
            f"{old} that predate{'s' if old == 1 else ''} it (shown, not blocking).",
            err=True,
        )
        if new:
            click.echo(
                "Error: the plan refuses changes this pull request asks for: fix the entries "
                "named above, or get a reviewed allowance (docs/gitops.md).",
                err=True,
            )
            sys.exit(EXIT_ERROR)
    # Refusals are a difference between the file and Codat, as changes are.
    differs = the_plan.has_changes or bool(the_plan.refused)
    sys.exit(EXIT_CHANGES if detailed_exitcode and differs else EXIT_OK)
