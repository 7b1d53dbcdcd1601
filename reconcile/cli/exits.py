"""Exit codes, `fail` and exit-1 usage errors: cheap (the group imports this for `--help`)."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


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
