"""`export`: live companies -> a desired-state file (read-only; nothing is sent but GET)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import click

from reconcile.cli.exits import EXIT_OK, ExitOneOnUsageError, fail
from reconcile.cli.inputs import load_desired
from reconcile.cli.options import file_option, flag_option, paths_option, sandbox_options
from reconcile.cli.runner import run
from reconcile.runs.connect import Where

OWNER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@click.command(cls=ExitOneOnUsageError)
@click.option("--owner", required=True, help="Export the companies tagged reconcile.owner=OWNER.")
@flag_option(
    "--adopt",
    "Also export companies without an owner tag, each with id: and a uid from its name.",
)
@file_option(
    "--out",
    help="Write the file here (replaced whole, atomically) instead of stdout.",
)
@paths_option(
    "--environments-from",
    "environments_from",
    help="With --env: the desired-state files that declare the environments (their key, base "
    "URL and account).",
)
@flag_option(
    "--verbose",
    "Print every warning on stderr (by default: a summary by kind; each warning is an "
    "`export:` comment in the file).",
)
@sandbox_options
def export(
    owner: str,
    adopt: bool,
    out: Path | None,
    environments_from: tuple[Path, ...],
    verbose: bool,
    where: Where,
) -> None:
    """Write a desired-state file from live Codat (review it, commit it, plan)."""
    from reconcile.export import summary_by_kind
    from reconcile.runs.export import export as export_run

    if not OWNER_PATTERN.fullmatch(owner):
        fail(
            f"--owner {owner!r} is not a valid owner: 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    desired = None
    if where.env is not None or environments_from:
        if not environments_from:
            fail(
                "--env needs --environments-from PATH: the desired-state files that declare the"
                " environments"
            )
        desired = load_desired(environments_from, where)

    done = run(export_run(where, owner, adopt=adopt, desired=desired))
    text, warnings, customers, requests = done.text, done.warnings, done.customers, done.requests
    if verbose:
        for warning in warnings:
            click.echo(f"Warning: {warning}", err=True)
    if warnings:  # said once, by kind, at the end: the detail is in the file's comments
        lines = "\n".join(f"  {line}" for line in summary_by_kind(warnings))
        detail = "" if verbose else "; --verbose prints each here"
        click.echo(
            f"Warnings by kind ({len(warnings)}); each is an `export:` comment at its customer "
            f"(or the file's end){detail}:\n{lines}",
            err=True,
        )
    if out is None:
        click.echo(text, nl=False)
    else:
        _write_atomically(out, text)
    target = str(out) if out else "stdout"
    click.echo(
        f"Exported {customers} customers of owner {owner} to {target} ({requests} requests, "
        f"{len(warnings)} warning{'' if len(warnings) == 1 else 's'}).",
        err=True,
    )
    sys.exit(EXIT_OK)


def _write_atomically(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
