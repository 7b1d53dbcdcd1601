"""A clone with nothing beside it runs the contract-based tests: nothing reaches outside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.extract import PROJECT_ROOT
from tests.support.cli import run_python

# The tests that check the client and the sandbox against Codat's contract.
CONTRACT_TESTS = (
    "tests/contract/test_drift.py",
    "tests/codat/test_client.py",
    "tests/sandbox/test_contract.py",
    "tests/sandbox/test_profile.py",
    "tests/sandbox/test_connection_errors.py",
    "tests/planner/test_planner.py",
)
_IGNORED_PARTS = frozenset({".git", ".venv", "__pycache__", ".reconcile", ".pytest_cache"})


def _project_files() -> list[str]:
    """The files a clone has: git's tracked (and new, unignored) files, else the tree itself."""
    if (PROJECT_ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [f for f in listed.split("\0") if f and (PROJECT_ROOT / f).is_file()]
    return [
        str(p.relative_to(PROJECT_ROOT))
        for p in PROJECT_ROOT.rglob("*")
        if p.is_file() and not _IGNORED_PARTS & set(p.relative_to(PROJECT_ROOT).parts)
    ]


@pytest.mark.slow
def test_contract_tests_pass_in_a_clone_with_nothing_beside_it(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    for name in _project_files():
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clone"]
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTHONPATH")}
    program = "import reconcile, tests.support.oas; print(reconcile.__file__)"
    where = run_python("-c", program, cwd=clone, env=env, check=True).stdout.strip()
    assert Path(where).is_relative_to(clone), where  # the clone's code, not this checkout's
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
            *CONTRACT_TESTS,
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "skipped" not in result.stdout, tail
