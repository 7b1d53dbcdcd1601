"""`show PLANFILE`: render a saved plan, offline (no network, no key)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconcile.cli.common import fail, format_option, full_plan_hint_option


@click.command()
@click.argument("planfile", type=click.Path(dir_okay=False, path_type=Path))
@format_option
@full_plan_hint_option
def show(planfile: Path, fmt: str, full_plan_hint: str | None) -> None:
    """Render a saved plan (from `plan --out`) without network access or a key.

    The plan's structure and format version are checked here; its signature needs the API key
    and is checked when the plan is applied.
    """
    from reconcile.render.escape import text
    from reconcile.render.style import Style
    from reconcile.render.text import render_plan
    from reconcile.saved import SavedPlanError, dumps, parse

    try:
        raw = planfile.read_bytes()
    except OSError as exc:
        fail(f"cannot read {planfile}: {exc.strerror or exc}")
    try:
        saved = parse(raw, str(planfile))
    except SavedPlanError as exc:
        fail(str(exc))
    doc, plan = saved.doc, saved.plan
    files = ", ".join(text(f["path"]) for f in doc["desired"]["files"]) or "no files"
    click.echo(
        f"Saved plan for owner {text(plan.owner)}, made by reconcile {text(saved.tool_version)} "
        f"against {text(saved.base_url)} at {text(plan.observed_at or 'an unknown time')} "
        f"from {files}. Its signature is checked when it is applied (that needs the API key).",
        err=True,
    )
    if fmt == "json":
        click.echo(dumps(doc), nl=False)
    elif fmt == "markdown":
        from reconcile.render.markdown import render_plan_markdown

        hint = full_plan_hint or f"the saved plan {planfile} (reconcile show {planfile})"
        click.echo(render_plan_markdown(plan, full_plan_hint=hint), nl=False)
    else:
        click.echo(render_plan(plan, Style.for_stream(sys.stdout)), nl=False)
