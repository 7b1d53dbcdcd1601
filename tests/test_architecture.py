"""The boundaries of DESIGN §2, checked on the imports each module writes.

The planner is pure; the client knows nothing of plans; the sandbox knows nothing of the
reconciler; rendering decides nothing (it reads plans, it does not talk to Codat).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reconcile"


def imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(), str(module))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "reconcile":  # `from reconcile import paths`
                found.update(f"reconcile.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return found


def modules(*parts: str) -> list[Path]:
    base = PACKAGE.joinpath(*parts)
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


def offenders(paths: list[Path], allowed: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        for name in imports(path):
            inside = name == "reconcile" or name.startswith("reconcile.")
            if inside and not name.startswith(allowed):
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
            if name.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return bad


@pytest.mark.parametrize(
    ("where", "allowed", "forbidden"),
    [
        (("sandbox",), ("reconcile.sandbox", "reconcile.loopback"), ()),
        (
            ("planner",),
            ("reconcile.planner", "reconcile.model", "reconcile.plans", "reconcile.paths"),
            ("httpx", "click", "asyncio", "sqlite3"),
        ),
        (
            ("plans", "__init__"),
            ("reconcile.model", "reconcile.paths"),
            ("httpx", "click", "asyncio"),
        ),
        (("model",), ("reconcile.model",), ("httpx", "click", "asyncio")),
        (
            ("codat",),
            ("reconcile.codat", "reconcile.model", "reconcile.paths", "reconcile.loopback"),
            ("click",),
        ),
        (
            ("render",),
            (
                "reconcile.render",
                "reconcile.escape",
                "reconcile.durations",
                "reconcile.plans",
                "reconcile.model",
                "reconcile.executor",
                "reconcile.audit",
                "reconcile.converge",
            ),
            ("httpx", "sqlite3"),
        ),
        (
            ("converge", "classify"),
            ("reconcile.model", "reconcile.plans"),
            ("httpx", "click", "asyncio", "sqlite3"),
        ),
    ],
    ids=["sandbox", "planner", "plan", "model", "client", "render", "who-must-act"],
)
def test_boundaries(
    where: tuple[str, ...], allowed: tuple[str, ...], forbidden: tuple[str, ...]
) -> None:
    assert offenders(modules(*where), allowed, forbidden) == []


def test_modules_stay_small() -> None:
    """Keep modules under about 400 lines: split by concern behind the same entry point."""
    big = [
        f"{p.relative_to(PACKAGE)}: {n} lines"
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 450
    ]
    assert big == []
