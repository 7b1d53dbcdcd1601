"""Saved plans on the command line: `plan --out FILE` writes one, `apply --plan FILE` runs one.

Thin: the runs (`reconcile.runs.saved_out`, `reconcile.runs.saved_apply`) check, read and
sign; this module writes the file, prints, and picks the exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from reconcile.cli.exits import EXIT_CHANGES, EXIT_OK
from reconcile.cli.inputs import load_desired
from reconcile.cli.private_files import write_private
from reconcile.cli.runner import run, run_sync

if TYPE_CHECKING:
    from reconcile.planner import PlanOptions
    from reconcile.plans import Plan
    from reconcile.runs.connect import Where
    from reconcile.runs.saved_apply import Fresh, RunPlan
    from reconcile.runs.saved_out import SavedRecord


# ---------------------------------------------------------------------- plan --out


def write_saved(record: SavedRecord, out: Path) -> None:
    """Write the signed plan the run recorded, and say how to apply it."""
    from reconcile.plans.file import dumps
    from reconcile.render.reading import requests_text

    if record.key_note:
        click.echo(record.key_note, err=True)
    sent = record.requests
    settings = len(record.document.get("settings") or ())
    also = f" and of the {settings} account settings change(s)" if settings else ""
    cost = requests_text(sent) if sent else "no request beyond the plan's"
    click.echo(
        f"Recorded the account and what the plan saw of {record.companies} companies{also} "
        f"({cost})",
        err=True,
    )
    write_private(out, dumps(record.document))
    click.echo(
        f"Saved the plan to {out} (valid until {record.document['expires_at']}). To perform "
        f"exactly these actions, run: reconcile apply --plan {out}",
        err=True,
    )


# ---------------------------------------------------------------------- apply --plan FILE


def is_plan_file(path: Path) -> bool:
    """Content unmistakably meant as a plan (never the name): a JSON object naming
    `format_version` or `saved_plan` (anywhere: `jq -S` moves them past the changes). Such a
    file is read as a plan (and refused as one if it is not a valid one), never planned as
    YAML; a customers file is YAML and names neither."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as handle:
            head = handle.read(4096)
            if head.lstrip()[:1] != b"{":
                return False  # YAML: `apply FILE` never imports the saved-plan reader
            from reconcile.plans.file import MAX_PLAN_BYTES, looks_like_plan

            return looks_like_plan(head + handle.read(MAX_PLAN_BYTES))
    except OSError:
        return False


def apply_saved(
    path: Path,
    files: Sequence[Path],
    where: Where,
    options: PlanOptions,
    run_plan: RunPlan,
    *,
    detailed_exitcode: bool = False,
    fmt: str = "text",
) -> NoReturn:
    """`apply --plan FILE [FILES...]`: exactly the plan's actions, once every check passed."""
    from reconcile.escape import text
    from reconcile.runs import saved_apply
    from reconcile.runs.saved_out import signing_key

    run_sync(lambda: saved_apply.check_options(options, path))
    key, note = run_sync(lambda: signing_key(create=False))
    if note:
        click.echo(note, err=True)
    saved = run_sync(lambda: saved_apply.load_saved(path, key))
    run_sync(lambda: saved_apply.environment_of(saved, where, path))
    # Read as plan reads them (a directory: its *.yaml files): the trusted environment, then
    # compared with what the plan acts on.
    desired = load_desired(files, where) if files else None
    checked = run_sync(lambda: saved_apply.check_saved(saved, desired, where, path))
    plan = checked.plan
    refusals = EXIT_CHANGES if detailed_exitcode and plan.refused else EXIT_OK
    if not plan.has_changes and not plan.settings:  # nothing to send: no need to ask Codat
        click.echo(f"{path}: no changes. Nothing to apply.", err=True)
        _print_outcome(plan, refusals, "no_changes", fmt)
        raise SystemExit(refusals)

    judged_as: list[Fresh] = []

    def judged(fresh: Fresh) -> None:
        judged_as.append(fresh)
        if fresh.partly:
            _say_partly(fresh, path)
        _say_settings(fresh, path)

    def settings_applied(count: int) -> None:
        click.echo(f"Applied {count} account settings change(s).", err=True)

    def starting(fresh: Plan) -> None:
        click.echo(f"Applying the saved plan {path} (owner {text(fresh.owner)})", err=True)

    code = run(
        saved_apply.apply_checked(
            checked,
            where,
            path,
            run_plan,
            on_fresh=judged,
            on_start=starting,
            on_settings=settings_applied,
        )
    )
    if code is None:
        click.echo(f"{path}: already applied: nothing to do.", err=fmt == "json")
        _print_outcome(plan, refusals, "already_applied", fmt)
        raise SystemExit(refusals)
    fresh = judged_as[0] if judged_as else None
    if fresh is not None and fresh.held and fresh.runnable:
        click.echo(
            f"{path}: {len(fresh.held)} action(s) of customers changed behind the plan were not "
            "applied (listed above): run plan for them.",
            err=True,
        )
    raise SystemExit(code)


def _say_settings(fresh: Fresh, path: Path) -> None:
    """Each account settings' change of the plan that is not made now: already applied, or
    changed behind the plan (with what changed)."""
    from reconcile.escape import text

    for subject in fresh.settings_landed:
        click.echo(f"{path}: account settings: {text(subject)}: already applied.", err=True)
    if fresh.settings_held:
        why = "\n".join(f"  {line}" for line in fresh.settings_changed)
        held = ", ".join(text(s) for s in fresh.settings_held)
        click.echo(
            f"Error: {path}: account settings not applied ({held}): changed behind the plan "
            f"since it was made:\n{why}\nMake a new plan (reconcile plan PATH... --out FILE), "
            "review it, and apply that.",
            err=True,
        )


def _say_partly(fresh: Fresh, path: Path) -> None:
    """A partly applied plan: what counts as done, what runs, and what is held (and why)."""
    click.echo(
        f"{path}: partly applied: {fresh.landed} of {fresh.total} actions already landed "
        "(another apply made them, or an apply stopped before the end): counted as done; "
        f"{fresh.runnable} remaining action(s) of customers as the plan saw them are applied.",
        err=True,
    )
    if fresh.held:
        lines = "\n".join(f"  {line}" for line in fresh.held)
        why = "\n".join(f"  {line}" for line in fresh.changed)
        click.echo(
            f"Error: {path}: {len(fresh.held)} remaining action(s) not applied: their "
            f"customers changed behind the plan since it was made:\n{why}\nNot applied:\n"
            f"{lines}\nMake a new plan for them (reconcile plan PATH... --out FILE), review "
            "it, and apply that.",
            err=True,
        )


def _print_outcome(plan: Plan, code: int, status: str, fmt: str) -> None:
    """Nothing was sent: the plan's refusals (text), or the result document (json)."""
    import json

    from reconcile.executor import ApplyResult
    from reconcile.render.apply import refusal_lines, result_document

    if fmt == "json":
        click.echo(json.dumps(result_document(plan, ApplyResult(), code, status), indent=2))
        return
    lines = refusal_lines(plan)
    if lines:
        click.echo("\n".join(lines))
