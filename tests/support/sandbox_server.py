"""Start a real sandbox server as a subprocess on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import started

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (http://\S+)")


def _entry_point() -> list[str]:
    """`python -m reconcile sandbox`: the command a user runs."""
    return [sys.executable, "-m", "reconcile", "sandbox"]


def sandbox_command(*args: str) -> list[str]:
    """The argv that runs `reconcile sandbox ARGS...` in a fresh interpreter."""
    return [*_entry_point(), *args]


@contextmanager
def serve_sandbox(
    db_path: str | os.PathLike[str], *args: str, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Serve `db_path` with `reconcile sandbox serve --port 0 ... ARGS`; yields the base URL."""
    command = sandbox_command("serve", "--port", "0", "--db", str(db_path), *args)
    with started(
        command, [LISTENING], name="sandbox", env={**os.environ, **(env or {})}, cwd=PROJECT_ROOT
    ) as server:
        yield server.found[0]
