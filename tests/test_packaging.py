"""The built wheel (not the source tree) works: schema found inside the installed package; and
the dependencies pyproject.toml declares are exactly what reconcile/ imports."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import reconcile, run_python

ROOT = Path(__file__).resolve().parents[1]

# Declared although reconcile/ never imports them, each for a stated reason:
NOT_IMPORTED = {
    # httpx's ASGITransport (the in-process `--sandbox`) and httpcore try `import sniffio` on
    # every request; without it each failed import scans sys.path again (measured: 30 us an
    # attempt, a request 130 -> 180 us; benchmarks/RESULTS.md).
    "sniffio",
}


def _normal(name: str) -> str:
    """A distribution's name as PEP 503 compares it (`PyYAML` and `pyyaml`, `yaml_rs`/`yaml-rs`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    """The runtime dependencies, by distribution name (extras such as uvicorn[standard] and
    version bounds dropped: an extra brings packages uvicorn imports, not reconcile)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        _normal(re.split(r"[\[<>=!~; ]", dep, maxsplit=1)[0]) for dep in project["dependencies"]
    }


def top_level_imports(package: Path) -> set[str]:
    """Every absolute top-level module imported anywhere under `package` (inside functions too)."""
    found: set[str] = set()
    for module in package.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(), str(module))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
            elif (by_name := _imported_by_name(node)) is not None:
                found.add(by_name.split(".")[0])  # importlib.import_module("yaml_rs")
    return found


def _imported_by_name(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def imported_distributions(package: Path) -> tuple[set[str], set[str]]:
    """(distributions reconcile/ imports, modules that are neither stdlib nor installed)."""
    owners = importlib.metadata.packages_distributions()
    dists: set[str] = set()
    unknown: set[str] = set()
    for name in top_level_imports(package) - set(sys.stdlib_module_names) - {"reconcile"}:
        if name in owners:
            dists.update(_normal(d) for d in owners[name])
        else:
            unknown.add(name)
    return dists, unknown


def test_every_import_is_declared_and_every_declaration_imported() -> None:
    dists, unknown = imported_distributions(ROOT / "reconcile")
    assert unknown == set(), "imported but installed by no distribution"
    assert dists - declared() == set(), "imported by reconcile/ but not declared in pyproject.toml"
    assert declared() - dists - NOT_IMPORTED == set(), "declared but never imported"


def test_the_dependency_check_can_fail(tmp_path: Path) -> None:
    """Control: a module importing an undeclared (installed) package is found."""
    (tmp_path / "m.py").write_text(
        "def f():\n    import pytest\n    from yaml import safe_load\n"
        "importlib.import_module('hypothesis.strategies')\n"
    )
    dists, _ = imported_distributions(tmp_path)
    assert dists - declared() == {"pytest", "hypothesis"}


@pytest.mark.slow
def test_wheel_installs_and_finds_its_schema(tmp_path: Path) -> None:
    dist, target = tmp_path / "dist", tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("codat_reconcile-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "reconcile/schemas/customers.schema.json" in names
    assert not any(n.startswith("tests/") for n in names)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "NO_COLOR": "1"}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return reconcile(*args, env={"PYTHONPATH": str(target)}, cwd=workdir, timeout=120)

    program = "import reconcile; print(reconcile.__file__)"
    where = run_python("-c", program, cwd=workdir, env=env, check=True)
    assert where.stdout.startswith(str(target))
    schema = run("schema")
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["$schema"].endswith("2020-12/schema")
    example = ROOT / "examples" / "customers.yaml"
    assert run("validate", str(example)).returncode == 0
    applied = run("apply", str(example), "--sandbox", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert run("plan", str(example), "--sandbox", "--detailed-exitcode").returncode == 0
