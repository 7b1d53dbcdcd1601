"""`plan`: what apply would change."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.exits import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, end_at_once, fail
from reconcile.cli.inputs import check_desired, load_desired
from reconcile.cli.link_urls import check_link_urls
from reconcile.cli.options import (
    file_option,
    flag_option,
    format_option,
    full_plan_hint_option,
    link_urls_option,
    paths_argument,
    plan_options,
    sandbox_options,
)
from reconcile.cli.reading import say_read, say_reading
from reconcile.cli.review import (
    base_option,
    block_on_new_refusals,
    changed_since,
    existed_before,
    had_config_before,
    the_review,
)
from reconcile.cli.runner import run

if TYPE_CHECKING:
    from reconcile.desired import Checked
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.runs.connect import Where


@click.command()
@base_option
@paths_argument
@sandbox_options
@plan_options
@format_option()
@full_plan_hint_option
@flag_option(
    "--detailed-exitcode",
    "Exit 2 when the plan has changes, 0 when it has none.",
)
@file_option(
    "--out",
    help="Also save the plan to FILE, for `reconcile apply --plan FILE` (signed with "
    "RECONCILE_SIGNING_KEY, or a local key; see docs/plan-json.md).",
)
@click.option(
    "--max-age",
    default="7d",
    show_default=True,
    metavar="DURATION",
    help="With --out: how long the saved plan may be applied (e.g. 7d, 36h, 90m).",
)
@link_urls_option(
    "Show the Link URLs (and company ids) of customers awaiting authorization, on a "
    "terminal only (left out by default, and never saved with --out: anyone who opens one can "
    "authorize that company; never post them to a pull request or a CI log)."
)
def plan(
    paths: tuple[Path, ...],
    base: tuple[Path, ...],
    where: Where,
    options: PlanOptions,
    fmt: str,
    detailed_exitcode: bool,
    out: Path | None,
    full_plan_hint: str | None,
    max_age: str,
    link_urls: bool,
) -> None:
    """Show what apply would change (and with --out, save it to apply exactly that later)."""
    from reconcile.durations import parse_duration

    check_link_urls(link_urls)
    try:
        valid_for = parse_duration(max_age)
    except ValueError as exc:
        fail(f"--max-age: {exc}")
    changed = None
    if base or where.env is not None:
        desired = load_desired(paths, where, allow_all=True, base=base)
        if where.env == "all" and desired.environments:
            from reconcile.cli.plan_all import plan_every_environment

            if out is not None:
                fail("--out saves one environment's plan: name it with --env NAME")
            plan_every_environment(desired, where, options, fmt, detailed_exitcode)
        if base:
            from dataclasses import replace

            changed = changed_since(base, desired)
            options = replace(
                options,
                existed=existed_before(base, desired),
                had_config=had_config_before(base, desired),
                changed=changed,  # only their expense configs are read (and the newly Linked)
            )
        files: DesiredState | Checked = desired
    else:  # built while Codat answers (the run's target does not depend on the files)
        files = check_desired(paths, where)
    from reconcile.runs.plan import plan as plan_run
    from reconcile.runs.plan import without_link_urls

    say_reading(files)
    made = run(
        plan_run(
            where,
            files,
            options,
            on_read=say_read,
            allow_unsafe=True,  # the whole plan is shown, then why it is refused
            save_for=valid_for if out is not None else None,
        )
    )
    # The renderers are imported now, not before the run: they would delay its first request.
    from reconcile.render.style import Style
    from reconcile.render.text import render_plan

    the_plan = made.plan if link_urls else without_link_urls(made.plan)
    if out is not None and the_plan.unsafe:
        click.echo(f"The plan is refused as a whole; nothing was saved to {out}.", err=True)
    elif out is not None and made.saved is not None:
        from reconcile.cli.saved_plans import write_saved

        write_saved(made.saved, out)
    if fmt == "json":
        from reconcile.render.plan_json import render_plan_json

        click.echo(render_plan_json(the_plan), nl=False)
    elif fmt == "markdown":
        from reconcile.render.markdown import render_plan_markdown

        hint = full_plan_hint or (f"the saved plan {out} (reconcile show {out})" if out else None)
        review = the_review(options, changed)
        markdown = render_plan_markdown(
            the_plan, full_plan_hint=hint, review=review, link_urls=link_urls
        )
        click.echo(markdown, nl=False)
    else:
        shown = render_plan(the_plan, Style.for_stream(sys.stdout), link_urls=link_urls)
        click.echo(shown, nl=False)
    settings = made.settings
    if settings and fmt != "json":
        from reconcile.render.settings import render_settings

        environment = made.desired.environment or ""
        shown = render_settings(settings, environment, Style.for_stream(sys.stdout))
        click.echo(shown, nl=False)
    if the_plan.unsafe:  # the whole plan is shown above (the JSON document says why), then why
        if fmt != "json":
            fail(f"plan refused: {the_plan.unsafe}")
        sys.exit(EXIT_ERROR)
    if changed is not None:
        block_on_new_refusals(the_plan, changed)
    # Refusals are a difference between the file and Codat, as changes are.
    differs = the_plan.has_changes or bool(the_plan.refused) or bool(settings)
    if not where.sandbox:  # read-only, nothing left open (the embedded sandbox's file is)
        end_at_once()
    sys.exit(EXIT_CHANGES if detailed_exitcode and differs else EXIT_OK)
