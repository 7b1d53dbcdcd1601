"""Exit codes, `fail` and exit-1 usage errors: cheap (the group imports this for `--help`)."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class Ending:
    """Whether the command asked to end at once (`end_at_once`)."""

    at_once = False


def end_at_once() -> None:
    """The command's work is done once its output is written, and it holds nothing to close or
    wait for (`plan` against Codat: read-only, its files written and closed, its threads
    joined): the process ends as soon as it returns, its output flushed, without the
    interpreter's teardown, which frees every object one by one (~30 ms of a 10,000-customer
    plan). Only `reconcile.cli.run` (the real process) acts on it, never a test's in-process
    command."""
    Ending.at_once = True


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_ERROR)


class ExitOneOnUsageError(click.Command):
    """A bad option is an error (exit 1), never mistaken for drift (exit 2, click's default)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise UsageErrorExit1(exc.format_message(), exc.ctx) from None


class UsageErrorExit1(click.UsageError):
    exit_code = EXIT_ERROR
