"""The tests mirror the package (the developer guide): each folder of tests/ names a package of
reconcile/, shared helpers live in tests/support/, and only tests/support/ runs `reconcile`
as a process of its own making."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "reconcile"
# Folders that mirror no package: the helpers, Codat's wire contract, the CI kit (examples/ci).
NOT_PACKAGES = frozenset({"support", "contract", "ci"})
# Flat test files: of the package as a whole, of the suite's own settings, and of reconcile's
# top-level modules (tests/test_escape.py for reconcile/escape.py).
WHOLE = frozenset(
    {"test_architecture.py", "test_layout.py", "test_packaging.py", "test_profiles.py"}
)
RUNS_RECONCILE = '"-m", "reconcile"'


def misplaced(tests: Path, package: Path) -> list[str]:
    """Folders of `tests` that mirror no package of `package`, and flat test files that mirror
    no top-level module of it."""
    found = []
    for folder in sorted(p for p in tests.rglob("*") if p.is_dir() and any(p.glob("*.py"))):
        relative = folder.relative_to(tests)
        if relative.parts[0] in NOT_PACKAGES:
            continue
        if not (package / relative / "__init__.py").exists():
            found.append(f"{relative}/ mirrors no package of reconcile/")
    for module in sorted(tests.glob("test_*.py")):
        if module.name not in WHOLE and not (package / module.name[5:]).exists():
            found.append(f"{module.name} sits flat in tests/: move it to its package's folder")
    return found


def own_runs(tests: Path) -> list[str]:
    """Test modules outside tests/support that build `python -m reconcile` themselves."""
    return [
        str(module.relative_to(tests))
        for module in sorted(tests.rglob("*.py"))
        if module.relative_to(tests).parts[0] != "support"
        and module.resolve() != Path(__file__).resolve()
        and RUNS_RECONCILE in module.read_text(encoding="utf-8")
    ]


def test_every_test_folder_mirrors_a_package() -> None:
    assert misplaced(TESTS, PACKAGE) == []


def test_only_tests_support_runs_reconcile_as_a_process() -> None:
    assert own_runs(TESTS) == []


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """Control: a flat test file, a folder with no package, and a run of its own are named."""
    package, tests = tmp_path / "reconcile", tmp_path / "tests"
    (package / "planner").mkdir(parents=True)
    (package / "planner" / "__init__.py").touch()
    (package / "escape.py").touch()
    for path in ("planner/test_rules.py", "nowhere/test_x.py", "test_escape.py", "test_y.py"):
        (tests / path).parent.mkdir(parents=True, exist_ok=True)
        (tests / path).write_text(f"argv = [{RUNS_RECONCILE}]\n" if "x" in path else "")
    assert misplaced(tests, package) == [
        "nowhere/ mirrors no package of reconcile/",
        "test_y.py sits flat in tests/: move it to its package's folder",
    ]
    assert own_runs(tests) == ["nowhere/test_x.py"]
