"""The two readers of a desired-state file, side by side: the fast path and the exact one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from reconcile.desired import fastread

T = TypeVar("T")


def never(file: str, text: str) -> None:
    """In place of `fastread.parse_fast`: every file goes to the exact reader (PyYAML)."""
    return None


def fast_and_exact(
    tmp: Path, text: str, monkeypatch: pytest.MonkeyPatch, outcome: Callable[[Path], T]
) -> tuple[T, T]:
    """`outcome` of `text` as a file, read by the fast path, then by the exact reader alone."""
    path = tmp / f"{uuid.uuid4().hex}.yaml"
    path.write_text(text, encoding="utf-8")
    fast = outcome(path)
    with monkeypatch.context() as patch:
        patch.setattr(fastread, "parse_fast", never)
        exact = outcome(path)
    path.unlink()
    return fast, exact
