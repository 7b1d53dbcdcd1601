"""The desired state of a run, from its files: every problem printed, exit 1, nothing sent."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.exits import EXIT_ERROR, fail

if TYPE_CHECKING:
    from reconcile.model import DesiredState
    from reconcile.runs.connect import Where


def load_desired(
    paths: Sequence[Path],
    where: Where | None = None,
    *,
    allow_all: bool = False,
    resolve: bool = True,
    base: Sequence[Path] = (),
) -> DesiredState:
    """The desired state of the run: the files, resolved for `--env` when they declare
    environments (with `allow_all`, `--env all` keeps every environment, unresolved; without
    `resolve`, as `validate` reads them, the files as they are). Resolved, their environments
    are trusted ones (`reconcile.cli.trust_checks`): the `base` files' when given (a pull
    request's plan), else only ones that send keys to Codat, loopback or an allowed URL."""
    from reconcile.cli.trust_checks import check_trusted
    from reconcile.desired import InvalidInput, load
    from reconcile.environments import ALL, EnvironmentChoiceError, check_choice, for_environment

    try:
        state = load(list(paths))
        if not resolve:
            return state
        env = where.env if where is not None else None
        check_choice(state, env, allow_all=allow_all)
        allowed = where.allowed_base_urls if where is not None else frozenset()
        sandbox = where.sandbox if where is not None else False
        state = check_trusted(state, env, allowed, base, sandbox=sandbox)
        return state if env == ALL else for_environment(state, env)
    except EnvironmentChoiceError as exc:
        fail(str(exc))
    except InvalidInput as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(
            f"{count} problem{'s' if count != 1 else ''} found; nothing was sent to Codat.",
            err=True,
        )
        sys.exit(EXIT_ERROR)
