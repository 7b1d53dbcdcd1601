"""Helpers for the saved-plan tests: `reconcile` as a subprocess against a served sandbox."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

from reconcile.plans.file import structure_problems
from tests.conftest import TEST_API_KEY
from tests.support.cli import codat_env
from tests.support.cli import reconcile as run_reconcile

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "customers.yaml"
# The tests' plan-signing key (RECONCILE_SIGNING_KEY), apart from the API key.
TEST_SIGNING_KEY = "test-signing-key-" + "0123456789abcdef" * 2


def unique_owner(prefix: str = "saved") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def uid(owner: str, number: str) -> str:
    """The uid `customers_file` gives the example's cus-NUMBER."""
    return f"{owner}-{number}"


def customers_file(directory: Path, owner: str, text: str | None = None) -> Path:
    """The example file (or `text`) with its owner replaced, and its uids prefixed with the
    owner instead of `cus-` (a uid names one company across owners): tests on one server stay
    apart."""
    body = (
        (text if text is not None else EXAMPLE.read_text())
        .replace("owner: expenses-demo", f"owner: {owner}")
        .replace("uid: cus-", f"uid: {owner}-")
    )
    path = directory / "customers.yaml"
    path.write_text(body)
    return path


def reconcile(
    *args: str,
    url: str | None,
    key: str | None = TEST_API_KEY,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`reconcile ARGS` with CODAT_BASE_URL=url, CODAT_API_KEY=key (None: unset) and the tests'
    signing key (unless `env` sets another)."""
    signing = {"RECONCILE_SIGNING_KEY": TEST_SIGNING_KEY}
    return run_reconcile(*args, env={**codat_env(url, key), **signing, **(env or {})}, cwd=cwd)


def ok(result: subprocess.CompletedProcess[str], *codes: int) -> subprocess.CompletedProcess[str]:
    assert result.returncode in (codes or (0,)), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """A clean refusal: exit 1, no traceback; returns stderr."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return result.stderr


def valid_plan(doc: dict[str, Any]) -> dict[str, Any]:
    """Every plan the suite produces is checked against schemas/plan.schema.json."""
    assert structure_problems(doc) == [], structure_problems(doc)
    return doc


def plan_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(result.stdout)
    return valid_plan(doc)


def read_plan(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return valid_plan(doc)
