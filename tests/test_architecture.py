"""The boundaries of docs/design.md §2, checked on the imports each module writes.

The planner is pure; the client knows nothing of plans; the sandbox knows nothing of the
reconciler; rendering decides nothing (it reads plans, it does not talk to Codat).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reconcile"
DESIGN = ROOT / "docs" / "design.md"
CITATION = re.compile(r"docs/design\.md\s+§(\d+)")


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
        # model/who.py names a plan's Action (for typing only).
        (("model",), ("reconcile.model", "reconcile.plans"), ("httpx", "click", "asyncio")),
        (
            ("plans", "requests"),
            ("reconcile.model", "reconcile.plans", "reconcile.paths"),
            ("httpx", "click", "asyncio", "sqlite3"),
        ),
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
        (("model", "who"), ("reconcile.model", "reconcile.plans"), ("httpx", "click", "asyncio")),
        (
            ("health",),
            ("reconcile.health", "reconcile.model", "reconcile.audit.model"),
            ("httpx", "click", "asyncio", "sqlite3"),
        ),
    ],
    ids=[
        "sandbox",
        "planner",
        "plan",
        "model",
        "requests",
        "client",
        "render",
        "classify",
        "who-must-act",
        "health",
    ],
)
def test_boundaries(
    where: tuple[str, ...], allowed: tuple[str, ...], forbidden: tuple[str, ...]
) -> None:
    assert offenders(modules(*where), allowed, forbidden) == []


MAX_LINES = 400
# Over the limit on main and moving out of cli/ in another part of issue 23 (saved-plan logic
# into runs/): drop the entry when that lands.
NOT_YET_SPLIT = frozenset({"cli/saved_plans.py"})
ONE_HOME = ("Who", "Waiting")  # the one model of who must act: reconcile/model/who.py


def big_modules(
    package: Path, limit: int = MAX_LINES, exempt: frozenset[str] = frozenset()
) -> list[str]:
    return [
        f"{p.relative_to(package)}: {n} lines"
        for p in sorted(package.rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > limit
        and str(p.relative_to(package)) not in exempt
    ]


def definitions(package: Path, names: tuple[str, ...]) -> list[str]:
    """Where each of `names` is defined: a class, or a module-level assignment (`Who = ...`)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.ClassDef):
                defined = [node.name]
            elif isinstance(node, ast.Assign):
                defined = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined = [node.target.id]
            else:
                continue
            found += [f"{path.relative_to(package)}: {n}" for n in defined if n in names]
    return found


def test_modules_stay_small() -> None:
    """Keep modules under about 400 lines: split by concern behind the same entry point."""
    assert big_modules(PACKAGE, exempt=NOT_YET_SPLIT) == []


def test_who_must_act_has_one_model() -> None:
    """`Who` and `Waiting` are defined once, in reconcile/model/who.py, and nowhere else."""
    assert definitions(PACKAGE, ONE_HOME) == ["model/who.py: Who", "model/who.py: Waiting"]


def test_the_rules_catch_what_they_guard(tmp_path: Path) -> None:
    """Controls: a second `Who` or `Waiting` and a long module are caught."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "who.py").write_text('Who = str\n\n\nclass Waiting:\n    """One."""\n')
    (tmp_path / "passes.py").write_text("Who: type = str\n\n\nclass Waiting:\n    pass\n")
    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert definitions(tmp_path, ONE_HOME) == [
        "model/who.py: Who",
        "model/who.py: Waiting",
        "passes.py: Who",
        "passes.py: Waiting",
    ]
    assert big_modules(tmp_path) == [f"long.py: {MAX_LINES + 1} lines"]


def sections(design: str) -> set[str]:
    """The numbers of a design page's `## N. Title` sections."""
    return set(re.findall(r"^## (\d+)\. ", design, re.MULTILINE))


def dangling_citations(roots: list[Path], known: set[str]) -> list[str]:
    """Each `docs/design.md §N` written under `roots` whose section N does not exist."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            for number in CITATION.findall(path.read_text()):
                if number not in known:
                    found.append(f"{path.name}: §{number}")
    return found


def test_the_design_the_docstrings_cite_is_in_the_repository(tmp_path: Path) -> None:
    known = sections(DESIGN.read_text())
    assert {"2", "4", "5", "8", "13"} <= known
    roots = [PACKAGE, ROOT / "tests", ROOT / "benchmarks"]
    assert dangling_citations(roots, known) == []
    # Control: a citation of a section the page lacks is caught.
    (tmp_path / "cites.py").write_text('"""See docs/design.md ' + '§99."""\n')
    assert dangling_citations([tmp_path], known) == ["cites.py: §99"]
