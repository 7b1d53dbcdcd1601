"""The command line. Thin: parse, call, render, choose the exit code.

One module per command (or family); this one holds the group and registers them.
"""

from __future__ import annotations

import logging
import sys

import click

from reconcile import __version__
from reconcile.cli.apply_cmd import apply
from reconcile.cli.audit_cmd import audit
from reconcile.cli.common import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, fail
from reconcile.cli.export_cmd import export
from reconcile.cli.files import schema, validate
from reconcile.cli.plan_cmd import plan
from reconcile.cli.show_cmd import show
from reconcile.sandbox.cli import sandbox

__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "fail", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log every HTTP request to stderr.")
@click.version_option(__version__, prog_name="reconcile")
def main(verbose: bool) -> None:
    """Declarative setup of Codat Sync for Expenses customers, from YAML in git."""
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        http_log = logging.getLogger("reconcile.http")
        http_log.addHandler(handler)
        http_log.setLevel(logging.INFO)


for command in (validate, schema, plan, show, apply, audit, export, sandbox):
    main.add_command(command)
