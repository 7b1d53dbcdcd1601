"""`--link-urls` and `--link-urls-out`: where Link URLs may go (the options are declared once,
in `reconcile.cli.options`).

Anyone who opens a Link URL can link an accounting platform to that company, and the id of a
company awaiting authorization is one (Codat's company `redirect`). Standard output is often a
CI log every collaborator reads, so by default nothing prints them (`reconcile.render.bearer`).
They go where only their owner reads them: `--link-urls-out FILE` (JSON, mode 0600) or, when
asked, `--link-urls` on a terminal; printing them anywhere else is refused.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from reconcile.cli.exits import fail

NOT_A_TERMINAL = (
    "--link-urls prints Link URLs, and standard output is not a terminal (a CI log or a file "
    "others may read; anyone who opens a Link URL can authorize that company): nothing was "
    "done. Write them to a file only you can read with {file_option}, or run on a terminal."
)


def check_link_urls(
    link_urls: bool,
    stream: TextIO | None = None,
    *,
    file_option: str = "--link-urls-out FILE",
    to_file: bool = False,
) -> bool:
    """Before anything is read or sent: whether Link URLs may be printed on `stream`
    (standard output): with `--link-urls`, only on a terminal. Off a terminal it exits 1 saying
    what to do, unless `to_file` (a private file, `file_option`, takes them instead: then
    nothing is printed, and False is returned)."""
    out = stream or sys.stdout
    if not link_urls:
        return False
    if _is_terminal(out):
        return True
    if to_file:
        return False
    fail(NOT_A_TERMINAL.format(file_option=file_option))


def write_link_urls(path: Path, entries: Sequence[dict[str, Any]]) -> None:
    """The list, as JSON, to a file only its owner may read; says where on stderr."""
    from reconcile.cli.private_files import write_private  # tempfile: only when writing
    from reconcile.escape import text

    write_private(path, json.dumps(list(entries), indent=2, ensure_ascii=False) + "\n")
    count = len(entries)
    click.echo(
        f"{count} Link URL{'' if count == 1 else 's'} written to {text(path)} "
        "(mode 0600: only you can read it).",
        err=True,
    )


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
