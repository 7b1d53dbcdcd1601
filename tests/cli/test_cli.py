"""The `reconcile` command end to end, as real subprocesses on the embedded sandbox."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reconcile.plans.file import structure_problems
from tests.support.cli import reconcile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "customers.yaml"


def assert_clean_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow
def test_apply_then_converges_then_authorize_creates_expense_connection(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    first = reconcile("apply", str(EXAMPLE), "--sandbox-db", db, "--auto-approve")
    assert first.returncode == 0, first.stderr
    assert "Plan: 12 to create (6 companies, 6 connections), 0 to update" in first.stdout
    assert "Apply complete: 12 created, 0 updated, 0 unlinked, 0 deleted; 0 failed" in first.stdout

    again = reconcile("plan", str(EXAMPLE), "--sandbox-db", db, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout
    assert "Deferred" in again.stdout and "partner expense connection" in again.stdout
    assert "Awaiting customer authorization (6)" in again.stdout

    auth = reconcile("sandbox", "authorize", "--db", db, "--uid", "cus-0002")
    assert auth.returncode == 0, auth.stderr
    after = reconcile(
        "plan", str(EXAMPLE), "--sandbox-db", db, "--detailed-exitcode", "--format", "json"
    )
    assert after.returncode == 2, after.stderr
    doc = json.loads(after.stdout)
    assert structure_problems(doc) == []  # schemas/plan.schema.json
    actions = [a for c in doc["changes"] for a in c["actions"]]
    assert [(a["uid"], a["kind"]) for a in actions] == [("cus-0002", "create_partner_expense")]

    applied = reconcile("apply", str(EXAMPLE), "--sandbox-db", db, "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    final = reconcile("plan", str(EXAMPLE), "--sandbox-db", db, "--detailed-exitcode")
    assert final.returncode == 0, final.stdout


def test_plan_with_changes_exits_2_only_with_detailed_exitcode(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    plain = reconcile("plan", str(EXAMPLE), "--sandbox-db", db)
    assert plain.returncode == 0, plain.stderr
    assert '# cus-0001 "Sawayn Group" will be created' in plain.stdout
    assert "+ accounting connection QuickBooks Online (qhyg)" in plain.stdout
    detailed = reconcile("plan", str(EXAMPLE), "--sandbox-db", db, "--detailed-exitcode")
    assert detailed.returncode == 2
    # One read of the owner's companies, one of the account's first page (before creating,
    # the plan makes sure no company carries these uids under another owner tag, or none) and
    # the key's account, which the plan shows.
    assert "Reading Codat: 0 managed companies (3 requests), account " in detailed.stderr


def test_apply_asks_for_yes(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    declined = reconcile("apply", str(EXAMPLE), "--sandbox-db", db, stdin="no\n")
    assert declined.returncode == 1
    assert "cancelled" in declined.stderr
    nothing = reconcile("plan", str(EXAMPLE), "--sandbox-db", db, "--detailed-exitcode")
    assert nothing.returncode == 2  # still everything to create: nothing was written
    accepted = reconcile("apply", str(EXAMPLE), "--sandbox-db", db, stdin="yes\n")
    assert accepted.returncode == 0, accepted.stderr


def test_sandbox_flag_keeps_state_in_dot_reconcile(tmp_path: Path) -> None:
    applied = reconcile("apply", str(EXAMPLE), "--sandbox", "--auto-approve", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert (tmp_path / ".reconcile" / "sandbox.db").exists()
    plan = reconcile("plan", str(EXAMPLE), "--sandbox", "--detailed-exitcode", cwd=tmp_path)
    assert plan.returncode == 0


def test_verbose_logs_requests_never_the_key(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    result = reconcile("-v", "plan", str(EXAMPLE), "--sandbox-db", db)
    assert result.returncode == 0
    assert "GET /companies -> 200" in result.stderr


def test_no_key_for_real_codat_is_a_clean_error() -> None:
    result = reconcile("plan", str(EXAMPLE))
    assert_clean_error(result)
    assert "CODAT_API_KEY" in result.stderr


def test_plain_http_base_url_is_refused() -> None:
    result = reconcile(
        "plan", str(EXAMPLE), env={"CODAT_API_KEY": "k", "CODAT_BASE_URL": "http://codat.example"}
    )
    assert_clean_error(result)
    assert "plain http" in result.stderr
    assert "k\n" not in result.stderr


def test_unreachable_codat_is_a_clean_error() -> None:
    result = reconcile(
        "plan", str(EXAMPLE), env={"CODAT_API_KEY": "k", "CODAT_BASE_URL": "http://127.0.0.1:9"}
    )
    assert_clean_error(result)
    assert "no response from Codat" in result.stderr


def test_invalid_file_is_reported_and_nothing_sent(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nowner: o\ncustomers:\n  - uid: a\n    nmae: x\n")
    db = tmp_path / "sandbox.db"
    result = reconcile("plan", str(bad), "--sandbox-db", str(db))
    assert_clean_error(result)
    assert f"{bad}:5:5:" in result.stderr
    assert not db.exists()


def test_validate_example() -> None:
    result = reconcile("validate", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "6 customers" in result.stdout


def test_schema_prints_json_schema() -> None:
    result = reconcile("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout)["$schema"].endswith("2020-12/schema")


@pytest.mark.slow
def test_offboarding_and_safety_refusals(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    assert reconcile("apply", str(EXAMPLE), "--sandbox-db", db, "--auto-approve").returncode == 0
    assert reconcile("sandbox", "authorize", "--db", db, "--uid", "cus-0004").returncode == 0

    empty = tmp_path / "empty.yaml"
    empty.write_text("version: 1\nowner: expenses-demo\ncustomers: []\n")
    refused = reconcile("plan", str(empty), "--sandbox-db", db)
    assert_clean_error(refused)
    assert "--allow-empty" in refused.stderr

    text = EXAMPLE.read_text()
    fewer = tmp_path / "fewer.yaml"
    # cus-0002 leaves the file; cus-0004 (protected, Linked) moves to Xero.
    start = text.index("  - uid: cus-0002")
    fewer.write_text(
        (text[:start] + text[text.index("  - uid: cus-0003") :]).replace(
            "accounting: sage-intacct", "accounting: xero"
        )
    )
    plan = reconcile("plan", str(fewer), "--sandbox-db", db, "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert '# cus-0002 "Globex Ltd" is not in the file or absent: offboarding' in plan.stdout
    assert "- delete accounting connection Xero (gbol), PendingAuth" in plan.stdout
    assert "Refused (2):" in plan.stdout and "protect: true" in plan.stdout
    assert "Plan: 0 to create, 0 to update, 0 to unlink, 1 to delete." in plan.stdout
