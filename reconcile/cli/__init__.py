"""The command line. Thin: parse, call, render, choose the exit code.

One module per command (or family); this one holds the group and registers them.
"""

from __future__ import annotations

import importlib
import sys

import click

from reconcile import __version__
from reconcile.cli.common import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, fail

# name -> "module:command". A command's module is imported only when that command runs (or when
# --help lists them all), so `validate` never pays for the planner, the client, asyncio or the
# sandbox. Register a command with one line here.
COMMANDS = {
    "validate": "reconcile.cli.files:validate",
    "schema": "reconcile.cli.files:schema",
    "plan": "reconcile.cli.plan_cmd:plan",
    "show": "reconcile.cli.show_cmd:show",
    "apply": "reconcile.cli.apply_cmd:apply",
    "audit": "reconcile.cli.audit_cmd:audit",
    "converge": "reconcile.cli.converge_cmd:converge",
    "export": "reconcile.cli.export_cmd:export",
    "sandbox": "reconcile.sandbox.cli:sandbox",
    "watch": "reconcile.cli.watch_cmd:watch",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, _, name = COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)


__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "fail", "main"]


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log every HTTP request to stderr.")
@click.version_option(__version__, prog_name="reconcile")
def main(verbose: bool) -> None:
    """Declarative setup of Codat Sync for Expenses customers, from YAML in git."""
    if verbose:
        import logging  # only -v needs it

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        http_log = logging.getLogger("reconcile.http")
        http_log.addHandler(handler)
        http_log.setLevel(logging.INFO)
