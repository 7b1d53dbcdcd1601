"""The command line. Thin: parse, call, render, choose the exit code.

One module per command (or family); this one holds the group and the static table of commands.
"""

from __future__ import annotations

import importlib
import sys
from typing import NamedTuple

import click

from reconcile import __version__
from reconcile.cli.exits import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, fail


class CommandEntry(NamedTuple):
    """Where a command lives and its short help (its docstring's first line, checked by a test)."""

    module: str
    attribute: str
    summary: str


# The static table. `--help` lists the commands from it without importing a single command
# module; a command's module is imported only when that command runs, so `validate` never pays
# for the planner, the client, asyncio or the sandbox. Register a command with one entry here.
COMMANDS: dict[str, CommandEntry] = {
    "validate": CommandEntry(
        "reconcile.cli.files", "validate", "Check desired-state files offline (no network, no key)."
    ),
    "schema": CommandEntry(
        "reconcile.cli.files", "schema", "Print the JSON Schema of the desired-state file."
    ),
    "plan": CommandEntry(
        "reconcile.cli.plan_cmd",
        "plan",
        "Show what apply would change (and with --out, save it to apply exactly that later).",
    ),
    "show": CommandEntry(
        "reconcile.cli.show_cmd",
        "show",
        "Render a saved plan (from `plan --out`) without network access or the API key.",
    ),
    "apply": CommandEntry(
        "reconcile.cli.apply_cmd",
        "apply",
        "Make Codat match the file; or `apply --plan FILE`: exactly a saved plan, no prompt.",
    ),
    "converge": CommandEntry(
        "reconcile.cli.converge_cmd",
        "converge",
        "One pass: read Codat, plan, apply only what policy.auto allows; report what waits.",
    ),
    "watch": CommandEntry(
        "reconcile.cli.watch_cmd",
        "watch",
        "Keep Codat converged: webhooks as hints, the listing every --resync.",
    ),
    "audit": CommandEntry(
        "reconcile.cli.audit_cmd",
        "audit",
        "Read-only drift report: exit 0 clean, 2 drift, 1 error. Sends nothing but GET.",
    ),
    "export": CommandEntry(
        "reconcile.cli.export_cmd",
        "export",
        "Write a desired-state file from live Codat (review it, commit it, plan).",
    ),
    "sandbox": CommandEntry(
        "reconcile.sandbox.cli",
        "sandbox",
        "A local, stateful Codat for trying things out and for tests.",
    ),
}


def load_command(name: str) -> click.Command:
    """The command `name` from its module; a module this installation lacks gives a command that
    says so and exits 1 (rather than a traceback)."""
    entry = COMMANDS[name]
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        if exc.name != entry.module:
            raise  # a module the command itself needs is missing: a real bug, shown as one
        return _unavailable(name, entry)
    command = getattr(module, entry.attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{entry.module}.{entry.attribute} is not a click command")
    return command


def _unavailable(name: str, entry: CommandEntry) -> click.Command:
    def callback() -> None:
        fail(
            f"`reconcile {name}` is not available in this installation ({entry.module} is missing)."
        )

    return click.Command(
        name,
        callback=callback,
        help=entry.summary,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the static table: no command module is imported to list them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands or name not in COMMANDS:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                listed = click.Command(name, help=COMMANDS[name].summary)  # click's own shortening
                rows.append((name, listed.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


__all__ = [
    "COMMANDS",
    "EXIT_CHANGES",
    "EXIT_ERROR",
    "EXIT_OK",
    "CommandEntry",
    "fail",
    "main",
    "run",
]


def run() -> None:
    """The `reconcile` program: `main`, then the exit it chose. A command that asked
    (`reconcile.cli.exits.end_at_once`) ends there with its code once its output is flushed;
    any other, or an output that cannot be flushed, exits as usual."""
    import os

    from reconcile.cli.exits import Ending

    try:
        main()
    except SystemExit as done:
        code = done.code
        if not Ending.at_once or not (code is None or isinstance(code, int)):
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed or broken stream: the usual exit reports it
            raise done from None
        os._exit(code or 0)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log every HTTP request to stderr.")
@click.version_option(__version__, prog_name="reconcile")
def main(verbose: bool) -> None:
    """Declarative setup of Codat Sync for Expenses customers, from YAML in git."""
    from reconcile.bulk import frozen_at_exit

    frozen_at_exit()
    if verbose:
        import logging  # only -v needs it

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        if not sys.stderr.isatty():  # a log others read: no company id (a Link URL), no link
            from reconcile.render.bearer import HidingFormatter

            handler.setFormatter(HidingFormatter("%(name)s: %(message)s"))
        http_log = logging.getLogger("reconcile.http")
        http_log.addHandler(handler)
        http_log.setLevel(logging.INFO)
