"""Golden files: the rendered output is the contract. `RECONCILE_REGEN_GOLDEN=1 pytest
tests/render` rewrites them (then read the diff before committing it)."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RECONCILE_REGEN_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"no golden file {name}: run with RECONCILE_REGEN_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its golden file"
