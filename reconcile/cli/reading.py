"""What a run says on stderr while it reads: the files, then Codat."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from reconcile.desired import Checked
    from reconcile.model import DesiredState, LiveState


def say_reading(desired: DesiredState | Checked) -> None:
    """What the files hold (files checked but not built yet have no environment)."""
    from reconcile.desired import Checked  # not the model: a plan builds it while Codat answers
    from reconcile.render.reading import files_line, files_summary

    if isinstance(desired, Checked):
        click.echo(files_summary(desired.files, desired.customer_count, desired.owner), err=True)
    else:
        click.echo(files_line(desired), err=True)


def say_read(desired: DesiredState, live: LiveState) -> None:
    from reconcile.render.reading import codat_line

    managed = sum(1 for c in live.companies if c.owner == desired.owner)
    click.echo(codat_line(managed, live.requests, account=live.account), err=True)
