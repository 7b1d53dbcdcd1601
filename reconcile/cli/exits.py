"""Exit codes and `fail`: all the command group itself needs (so `--help` imports nothing more)."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_ERROR)
