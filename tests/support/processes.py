"""Spawn a server process and wait until its stderr says where it listens."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_SECONDS = 30.0


@dataclass
class Started:
    """A running server: its process, the first match of each pattern, every stderr line read so
    far, and whether its stderr has ended (every line it wrote is in `lines`)."""

    process: subprocess.Popen[str]
    found: list[str]
    lines: list[str] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)

    def line_with(self, wanted: str | re.Pattern[str], timeout: float = 10) -> str:
        """The first line holding `wanted` (a substring or a pattern), waiting up to `timeout`
        for it: a line written just before a server's status changed may still be in the pipe."""
        deadline = time.monotonic() + timeout
        while True:
            complete = self.ended.is_set()  # before the scan: a line read after it is seen next
            for line in list(self.lines):
                if wanted.search(line) if isinstance(wanted, re.Pattern) else wanted in line:
                    return line
            if complete or time.monotonic() > deadline:
                raise AssertionError(f"no line with {wanted!r} in:\n{''.join(self.lines)}")
            time.sleep(0.02)

    def whole_log(self, timeout: float = 10) -> str:
        """Every line, once the process has ended and its stderr is read to the end (so that a
        check that something is absent sees the whole log)."""
        self.process.wait(timeout=timeout)
        if not self.ended.wait(timeout):
            raise AssertionError(f"stderr still open {timeout} s after the exit")
        return "".join(self.lines)


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
    ended = threading.Event()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            lines.put(line)
        ended.set()
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
        yield Started(process, [url for url in found if url is not None], seen, ended)
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
