"""Start a real sandbox server as a subprocess on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (http://\S+)")
START_TIMEOUT_SECONDS = 30.0


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
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        url = None
        while url is None:
            try:
                line = lines.get(timeout=START_TIMEOUT_SECONDS)
            except queue.Empty:
                raise RuntimeError(f"sandbox did not start: {''.join(seen)}") from None
            if line is None:
                raise RuntimeError(f"sandbox exited ({process.wait()}): {''.join(seen)}")
            seen.append(line)
            if match := LISTENING.search(line):
                url = match.group(1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
