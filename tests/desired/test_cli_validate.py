"""`reconcile validate` and `reconcile schema` as real subprocesses, on the corpus."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reconcile.desired import InvalidInput, load, schema_text
from tests.desired.test_corpus import EXPECTED
from tests.support.cli import reconcile

HERE = Path(__file__).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return reconcile(*args, cwd=HERE, timeout=120)


def test_validate_prints_every_problem_on_stderr_and_exits_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = ["bad/multi-mixed", "bad/expenses-yes.yaml"]
    monkeypatch.chdir(HERE)
    with pytest.raises(InvalidInput) as caught:
        load(paths)
    problems = [str(p) for p in caught.value.problems]
    assert set(EXPECTED["bad/multi-mixed"]) <= set(problems)

    result = run("validate", *paths)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[:-1] == problems
    assert "Traceback" not in result.stderr


def test_validate_good_directory_exits_0_with_a_summary() -> None:
    result = run("validate", "good/dir", "good/minimal.yaml")
    assert result.returncode == 1  # two owners: team.a and expenses-prod
    assert "differs from owner 'team.a'" in result.stderr
    result = run("validate", "good/dir")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert "2 customers" in result.stdout and "team.a" in result.stdout


def test_validate_billion_laughs_is_quick_and_clean() -> None:
    result = run("validate", "bad/billion-laughs.yaml")
    assert result.returncode == 1
    assert "aliases expand this document" in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_command_prints_the_schema() -> None:
    result = run("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads(schema_text())


def test_hostile_strings_cannot_forge_lines_or_reach_the_terminal(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(
        'version: 1\nowner: o\ncustomers:\n  - uid: a\n    name: A\n    "\\e[2J\\nok": 1\n'
    )
    for path in ["bad/name-forged-verdict.yaml", "bad/description-osc52.yaml", str(hostile)]:
        result = run("validate", path)
        assert result.returncode == 1
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 2, lines  # one problem, then the count: nothing forged in between
        assert not any(line.startswith("No changes") for line in lines)
