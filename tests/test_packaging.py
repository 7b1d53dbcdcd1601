"""The built wheel (not the source tree) works: schema found inside the installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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
        return subprocess.run(
            [sys.executable, "-m", "reconcile", *args],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import reconcile; print(reconcile.__file__)"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(target))
    schema = run("schema")
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["$schema"].endswith("2020-12/schema")
    example = ROOT / "examples" / "customers.yaml"
    assert run("validate", str(example)).returncode == 0
    applied = run("apply", str(example), "--sandbox", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert run("plan", str(example), "--sandbox", "--detailed-exitcode").returncode == 0
