"""The desired state of a run, from its files: every problem printed, exit 1, nothing sent."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from reconcile.cli.exits import EXIT_ERROR, fail

if TYPE_CHECKING:
    from reconcile.desired import Checked
    from reconcile.model import DesiredState
    from reconcile.runs.connect import Where

T = TypeVar("T")


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
    from reconcile.desired import load

    state = _checked(lambda: load(list(paths)))
    if not resolve:
        return state
    return _resolved(state, where, allow_all=allow_all, base=base)


def check_desired(paths: Sequence[Path], where: Where) -> DesiredState | Checked:
    """For a run that reads Codat while it builds the model: the files checked (every problem
    printed, exit 1, as `load_desired`), and not built yet when nothing about where the run
    goes depends on them (no environments in the files, no `--env`); else as `load_desired`
    resolves them."""
    from reconcile.desired import check

    checked = _checked(lambda: check(list(paths)))
    if not checked.declares_environments and where.env is None:
        return checked
    return _resolved(_checked(checked.build), where, allow_all=False, base=())


def _resolved(
    state: DesiredState, where: Where | None, *, allow_all: bool, base: Sequence[Path]
) -> DesiredState:
    from reconcile.cli.trust_checks import check_trusted
    from reconcile.environments import ALL, EnvironmentChoiceError, check_choice, for_environment

    env = where.env if where is not None else None

    def resolve() -> DesiredState:
        check_choice(state, env, allow_all=allow_all)
        allowed = where.allowed_base_urls if where is not None else frozenset()
        sandbox = where.sandbox if where is not None else False
        trusted = check_trusted(state, env, allowed, base, sandbox=sandbox)
        return trusted if env == ALL else for_environment(trusted, env)

    try:
        return _checked(resolve)
    except EnvironmentChoiceError as exc:
        fail(str(exc))


def _checked(read: Callable[[], T]) -> T:
    """`read()`, or every problem of the files printed and exit 1."""
    from reconcile.desired import InvalidInput

    try:
        return read()
    except InvalidInput as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(
            f"{count} problem{'s' if count != 1 else ''} found; nothing was sent to Codat.",
            err=True,
        )
        sys.exit(EXIT_ERROR)
