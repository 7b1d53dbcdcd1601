"""`show PLANFILE`: render a saved plan, offline (no network, no key)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconcile.cli.exits import fail
from reconcile.cli.options import format_option, full_plan_hint_option


@click.command()
@click.argument("planfile", type=click.Path(dir_okay=False, path_type=Path))
@format_option()
@full_plan_hint_option
def show(planfile: Path, fmt: str, full_plan_hint: str | None) -> None:
    """Render a saved plan (from `plan --out`) without network access or the API key.

    Its signature is checked first when a signing key is at hand (RECONCILE_SIGNING_KEY, or the
    local .reconcile/signing.key); without one, only its structure is, and it says so.
    """
    from reconcile.escape import text
    from reconcile.plans.file import SavedPlanError, dumps, parse, read_capped, signing_key
    from reconcile.render.style import Style
    from reconcile.render.text import render_plan

    try:
        key, _ = signing_key(create=False)
    except SavedPlanError:
        key = None
    try:
        saved = parse(read_capped(planfile), str(planfile), key)
    except SavedPlanError as exc:
        fail(str(exc))
    doc, plan = saved.doc, saved.plan
    files = ", ".join(text(f["path"]) for f in doc["desired"]["files"]) or "no files"
    checked = (
        f"Its signature is valid ({text(key.source)})."
        if key is not None
        else "Its signature was not checked (no signing key here); apply checks it."
    )
    click.echo(
        f"Saved plan for owner {text(plan.owner)} in the Codat account {text(saved.account)}, "
        f"made by reconcile {text(saved.tool_version)} against {text(saved.base_url)} at "
        f"{text(plan.observed_at or 'an unknown time')} from {files}; valid until "
        f"{text(str(doc['expires_at']))}. {checked}",
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
        if plan.settings:
            from reconcile.render.settings import render_settings

            env = saved.environment
            shown = render_settings(
                plan.settings, env.name if env else "", Style.for_stream(sys.stdout)
            )
            click.echo(shown, nl=False)
