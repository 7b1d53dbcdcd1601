"""`validate` and `schema`: the desired-state file, offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.inputs import load_desired
from reconcile.cli.options import paths_argument

if TYPE_CHECKING:
    pass


@click.command()
@paths_argument
def validate(paths: tuple[Path, ...]) -> None:
    """Check desired-state files offline (no network, no key)."""
    from reconcile.cli.trust_checks import check_consumers
    from reconcile.environments import for_environment, names

    state = load_desired(paths, resolve=False)  # checks every environment's customers
    check_consumers(state, names(state))  # where each account's webhooks go
    files = len(state.files) or len(paths)
    envs = "".join(f"; {env}: {len(for_environment(state, env).customers)}" for env in names(state))
    click.echo(
        f"{files} file(s) valid: {len(state.customers)} customers, owner {state.owner}{envs}"
    )


@click.command()
def schema() -> None:
    """Print the JSON Schema of the desired-state file."""
    from reconcile.desired import schema_text

    click.echo(schema_text(), nl=False)
