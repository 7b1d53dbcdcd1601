"""Trusted settings on the command line: refuse, before any request, a run whose files would
pick where a key is sent (`reconcile.trusted` decides; this module reads, locates and exits).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.exits import EXIT_ERROR

if TYPE_CHECKING:
    from reconcile.model import DesiredState, Environment
    from reconcile.trusted import Distrust

allow_base_url_option = click.option(
    "--allow-base-url",
    "allow_base_urls",
    multiple=True,
    metavar="URL",
    help="Let an environment's base_url send its key to URL, which is neither Codat's API nor "
    "loopback (repeatable; also RECONCILE_ALLOW_BASE_URL). Only the command line allows "
    "this, never a file.",
)


def allowed_base_urls(option: Sequence[str]) -> frozenset[str]:
    from reconcile.trusted import allowed_from

    return frozenset(allowed_from(option, os.environ))


def check_trusted(
    state: DesiredState,
    env: str | None,
    allowed: frozenset[str],
    base: Sequence[Path] = (),
    *,
    sandbox: bool = False,
) -> DesiredState:
    """`state` with its environments from the trusted source, or exit 1 naming file, line and
    field. With `base` (a pull request's plan): the base files' environments, and a file whose
    environments differ is refused. Then each environment the run uses (`env`; 'all': every
    one) must send its key to Codat, loopback or a URL the command line allowed (the base
    files' too: no file allows another host), and its declared webhook consumer must be an
    https:// (or loopback) URL without user info."""
    from dataclasses import replace

    from reconcile.environments import ALL
    from reconcile.escape import text
    from reconcile.trusted import against_base, off_codat, unverifiable

    if base:
        before = _base_environments(base)
        shown = ", ".join(text(str(p)) for p in base)
        if before is None and not state.environments:
            return state  # no environments: the operator's CODAT_API_KEY and CODAT_BASE_URL
        if before is None:
            _refuse(state, [unverifiable(shown)])
        else:
            _refuse(state, against_base(before, state.environments, shown))
            state = replace(state, environments=dict(before))
    using = list(state.environments) if env in (None, ALL) else [env]
    if not sandbox:  # the embedded sandbox sends nothing anywhere
        _refuse(state, off_codat(state.environments, using, allowed))
    # Where Codat sends the account's webhooks (the base files' too, under --base).
    check_consumers(state, using)
    return state


def check_consumers(state: DesiredState, names: Sequence[str]) -> None:
    """Exit 1 naming file, line and field when an environment of `names` declares a webhook
    consumer whose url is not https:// (nor loopback http) or holds user info (`validate`
    checks every environment: it needs nothing from the command line)."""
    from reconcile.trusted import consumer_off

    _refuse(state, consumer_off(state.environments, names))


def _base_environments(base: Sequence[Path]) -> dict[str, Environment] | None:
    """The base files' environments (none when no base file exists yet); None when the base
    files do not load (read quietly: `reconcile.cli.review.load_base` says so on stderr)."""
    from reconcile.cli.review import read_base
    from reconcile.desired import InvalidInput

    present = tuple(p for p in base if p.exists())
    if not present:
        return {}
    loaded = read_base(present)
    return None if isinstance(loaded, InvalidInput) else dict(loaded.environments)


def _refuse(state: DesiredState, found: list[Distrust]) -> None:
    if not found:
        return
    from reconcile.desired.locate import environment_position
    from reconcile.desired.problems import Problem

    for distrust in found:
        file, line, col = environment_position(
            state.files, distrust.env, distrust.field, distrust.under
        )
        click.echo(str(Problem(file, line, col, distrust.message)), err=True)
    count = len(found)
    click.echo(
        f"{count} problem{'s' if count != 1 else ''} found; nothing was sent to Codat.", err=True
    )
    sys.exit(EXIT_ERROR)  # before any request: the caller has not opened a client yet
