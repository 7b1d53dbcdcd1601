"""A `reconcile` subprocess on a real pseudo-terminal (stdin, stdout and stderr), and reading
what it wrote there."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from pathlib import Path


def read_pty(fd: int, process: subprocess.Popen[bytes], timeout: float) -> bytes:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the other side closed
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


def run_on_a_terminal(
    argv: list[str], env: dict[str, str], cwd: Path, columns: int = 200, timeout: float = 90
) -> tuple[int, str]:
    """Run `argv` on a pseudo-terminal `columns` wide: its exit code and everything it showed."""
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    process = subprocess.Popen(
        argv, stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=cwd
    )
    os.close(secondary)
    try:
        raw = read_pty(main, process, timeout=timeout)
        code = process.wait(timeout=30)
    finally:
        os.close(main)
    return code, raw.decode()
