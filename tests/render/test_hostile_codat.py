"""Hostile strings from Codat, end to end: a served sandbox holds them, a real `reconcile plan`
subprocess reads and prints them. They show escaped, on their own line, and cannot forge the
verdict or reach the terminal raw."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import httpx

from tests.conftest import TEST_API_KEY
from tests.render.test_text import assert_inert
from tests.support.cli import reconcile_argv

FORGED = "Acme Ltd\n\nNo changes. Codat matches the file."
CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07 \u202eevil"


def plan(path: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env.update({"CODAT_BASE_URL": base_url, "CODAT_API_KEY": TEST_API_KEY, "NO_COLOR": "1"})
    return subprocess.run(
        reconcile_argv("plan", str(path), *args),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def customers_file(tmp_path: Path, owner: str) -> Path:
    path = tmp_path / "customers.yaml"
    path.write_text(
        f"version: 1\nowner: {owner}\ncustomers:\n"
        "  - uid: cus-1\n    name: Acme\n    description: Widgets\n    tags: {region: uk}\n"
    )
    return path


def _plan_for(
    codat: httpx.Client, base_url: str, tmp_path: Path, name: str, description: str, tag: str
) -> subprocess.CompletedProcess[str]:
    """Plan the file's `cus-1` against a company Codat holds with these strings."""
    owner = f"render-{uuid.uuid4().hex[:8]}"
    created = codat.post(
        "/companies",
        json={
            "name": name,
            "description": description,
            "tags": {"reconcile.owner": owner, "reconcile.uid": "cus-1", "region": tag},
        },
    )
    assert created.status_code == 200, created.text
    result = plan(customers_file(tmp_path, owner), base_url)
    assert result.returncode == 0, result.stderr
    return result


def test_hostile_company_from_codat_prints_escaped_on_the_same_lines(
    codat: httpx.Client, sandbox_url: str, tmp_path: Path
) -> None:
    benign = _plan_for(codat, sandbox_url, tmp_path, "Acme Old", "Old", "ie").stdout.splitlines()
    result = _plan_for(codat, sandbox_url, tmp_path, FORGED, CLIPBOARD, "ie\n+ forged=tag")
    assert_inert(result.stdout + result.stderr)
    lines = result.stdout.splitlines()
    assert len(lines) == len(benign)
    assert lines[-1] == benign[-1] == "Plan: 0 to create, 1 to update, 0 to unlink, 0 to delete."
    assert "No changes. Codat matches the file." not in lines
    assert '      ~ name: "Acme Ltd\\n\\nNo changes. Codat matches the file." -> "Acme"' in lines
    assert (
        '      ~ description: "\\x1b]52;c;ZWNobyBwd25lZA==\\x07 \\u202eevil" -> "Widgets"' in lines
    )
    assert "      ~ tag region: ie\\n+ forged=tag -> uk" in lines
