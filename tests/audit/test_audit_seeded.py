"""The audit over a `sandbox seed` population, served: it costs what a plan costs, finds what
the seeded histories hold, and sends only GETs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.audit.fleet import ok, served
from tests.conftest import TEST_API_KEY
from tests.support.cli import reconcile

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "audit.schema.json").read_text())
OWNER = "seed-team"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path, Path]]:
    directory = tmp_path_factory.mktemp("seeded")
    db = directory / "sandbox.db"
    seed = ("sandbox", "seed", "--db", str(db), "--companies", "600", "--owner", OWNER)
    ok(reconcile(*seed, "--connection-errors", "0.05"))
    with served(directory) as (url, _db, log):
        env = {"CODAT_BASE_URL": url, "CODAT_API_KEY": TEST_API_KEY}
        customers = directory / "customers.yaml"
        ok(reconcile("export", "--owner", OWNER, "--out", str(customers), env=env))
        yield env, customers, log


def requests_of(stderr: str) -> int:
    match = re.search(r"\((\d+) requests?\)", stderr)
    assert match, stderr
    return int(match.group(1))


def test_costs_what_a_plan_costs(seeded: tuple[dict[str, str], Path, Path]) -> None:
    env, customers, _ = seeded
    plan = ok(reconcile("plan", str(customers), env=env))
    audit = reconcile("audit", str(customers), env=env)
    assert audit.returncode in (0, 2), audit.stderr
    # The same reads, but for the key's account, which `plan` reads and shows.
    assert requests_of(audit.stderr) == requests_of(plan.stderr) - 1


def test_seeded_histories_and_json_out(
    seeded: tuple[dict[str, str], Path, Path], tmp_path: Path
) -> None:
    env, customers, log = seeded
    before = len(read_log(log))
    report = tmp_path / "audit.json"
    result = reconcile(
        "audit", str(customers), "--format", "markdown", "--json-out", str(report), env=env
    )
    assert result.returncode == 2, result.stderr  # seeded Deauthorized connections
    doc = json.loads(report.read_text())
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    summary = doc["summary"]
    assert summary["changes"] == 0  # the export plans to no changes
    assert summary["needs_reauthorization"] > 0 and summary["awaiting_authorization"] > 0
    assert summary["connection_errors"] > 0
    errors = [f for f in doc["findings"] if f["kind"] == "connection_errors"]
    assert all(f["since"] and f["facts"]["message"] for f in errors)
    assert summary["orphans"] == 0 and summary["foreign"] == 0 and summary["duplicates"] == 0
    assert doc["companies_read"] == 600
    row = f"| `needs_reauthorization` | {summary['needs_reauthorization']} | yes |"
    assert row in result.stdout
    only_changes = reconcile("audit", str(customers), "--fail-on", "changes", env=env)
    assert only_changes.returncode == 0, only_changes.stdout
    assert {e["method"] for e in read_log(log)[before:]} == {"GET"}
