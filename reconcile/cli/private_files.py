"""Files only their owner may read: saved plans (they carry what Codat holds) and the lists of
Link URLs (anyone who opens one can authorize that company)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reconcile.cli.exits import fail

PRIVATE_MODE = 0o600


def write_private(path: Path, content: str) -> None:
    """Write atomically (a temporary file beside it, then rename), readable by the owner only
    from the start; exit 1 naming the file when it cannot be written."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), PRIVATE_MODE)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror or exc}")
