"""`plan --env all`: every environment's plan summary side by side, read-only.

A reviewer sees what one change does in each Codat account, production included, before any of
it is applied (`reconcile.runs.plan_all`); nothing is written anywhere and nothing is saved.
An environment that cannot be planned gets its row with the error in it; the others are still
planned, and the run exits 1.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from reconcile.cli.exits import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from reconcile.cli.reading import say_read, say_reading
from reconcile.cli.runner import run

if TYPE_CHECKING:
    from reconcile.model import DesiredState
    from reconcile.planner import PlanOptions
    from reconcile.runs.connect import Where


def plan_every_environment(
    desired: DesiredState, where: Where, options: PlanOptions, fmt: str, detailed: bool
) -> None:
    """Plan each environment in promotion order, print the table (or JSON), and exit."""
    from reconcile.render.plan_all import render_json, render_table
    from reconcile.runs import plan_all

    rows = run(
        plan_all.plan_every_environment(
            desired, where, options, on_env=say_reading, on_read=say_read
        )
    )
    click.echo(render_json(rows) if fmt == "json" else render_table(rows), nl=False)
    if any(row.error for row in rows):
        sys.exit(EXIT_ERROR)
    differs = any(row.differs for row in rows)
    sys.exit(EXIT_CHANGES if detailed and differs else EXIT_OK)
