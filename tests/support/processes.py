"""Spawn a server process and wait until its stderr says where it listens."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_SECONDS = 30.0


@dataclass
class Started:
    """A running server: its process, the first match of each pattern, every stderr line."""

    process: subprocess.Popen[str]
    found: list[str]
    lines: list[str] = field(default_factory=list)


@contextmanager
def started(
    command: Sequence[str],
    patterns: Sequence[re.Pattern[str]],
    *,
    name: str,
    env: Mapping[str, str],
    cwd: Path | None = None,
    preexec: Callable[[], None] | None = None,
    stop: Callable[[subprocess.Popen[str]], None] | None = None,
) -> Iterator[Started]:
    """Run `command`; yield once every pattern matched a stderr line (its group 1 each, in
    order). On leaving, `stop` (default: terminate, then kill after 10 s)."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        preexec_fn=preexec,
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
            seen.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        found: list[str | None] = [None] * len(patterns)
        while None in found:
            try:
                line = lines.get(timeout=START_TIMEOUT_SECONDS)
            except queue.Empty:
                raise RuntimeError(f"{name} did not start: {''.join(seen)}") from None
            if line is None:
                raise RuntimeError(f"{name} exited ({process.wait()}): {''.join(seen)}")
            for index, pattern in enumerate(patterns):
                if found[index] is None and (match := pattern.search(line)):
                    found[index] = match.group(1)
        yield Started(process, [url for url in found if url is not None], seen)
    finally:
        (stop or terminate)(process)


def terminate(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 seconds."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
