"""The audit at fleet size (issue 25, case 10): an 11,600-company messy fleet, adopted with
`export --adopt`, served on loopback. By default the text report is at most 300 lines, and the
Markdown report fits a GitHub issue (65,536 characters) with every person-level finding in it:
each customer and each company it names."""

from __future__ import annotations

import json
import subprocess

import pytest

from reconcile.escape import markdown
from tests.audit.fleet import ok, served
from tests.conftest import TEST_API_KEY
from tests.support.cli import reconcile
from tests.support.sandbox_server import sandbox_command

pytestmark = pytest.mark.slow
GITHUB_ISSUE_LIMIT = 65_536


def test_an_11600_company_audit_is_short_and_names_every_person_level_finding(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("audit-fleet")
    db = tmp / "sandbox.db"
    seeded = subprocess.run(
        sandbox_command(
            "seed", "--db", str(db), "--companies", "10000", "--owner", "ops", "--messy"
        ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    assert "Seeded" in seeded.stdout and "11600 companies" in seeded.stdout
    with served(tmp) as (url, _db, _log):
        env = {"CODAT_BASE_URL": url, "CODAT_API_KEY": TEST_API_KEY}
        adopted = tmp / "adopted.yaml"
        ok(reconcile("export", "--owner", "ops", "--adopt", "--out", str(adopted), env=env))
        report = tmp / "audit.json"
        md = reconcile(
            "audit", str(adopted), "--format", "markdown", "--json-out", str(report), env=env
        )
        text = reconcile("audit", str(adopted), env=env)
    assert md.returncode == text.returncode == 2, md.stderr + text.stderr
    doc = json.loads(report.read_text())
    assert doc["companies_read"] == 11600
    lines = text.stdout.splitlines()
    assert len(lines) <= 300, len(lines)
    assert lines[-1].startswith("Drift: ")
    assert "by age: " in text.stdout  # the awaiting list, counted
    assert len(md.stdout) <= GITHUB_ISSUE_LIMIT
    person = [f for f in doc["findings"] if f["who"] == "person"]
    assert len(person) >= 400  # 200 duplicates, 200 connection errors at this size
    for finding in person:
        if finding["uid"] is not None:
            assert f"**{markdown(finding['uid'])}**" in md.stdout, finding
        else:  # a finding without a uid is named by its company's name
            assert markdown(finding["name"]) in md.stdout, finding
        # An issue shows no company id at all (a pending company's id is a Link URL).
        for cid in [finding["company_id"], *finding["facts"].get("company_ids", [])]:
            assert cid is None or cid not in md.stdout, finding
    # The control: one line per finding would be far longer (the JSON has them all).
    assert len(doc["findings"]) > 5000
    assert sum(f["kind"] == "awaiting_authorization" for f in doc["findings"]) > 1000
