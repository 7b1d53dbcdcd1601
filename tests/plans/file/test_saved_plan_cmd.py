"""`plan --out`, `plan --format json` stability and `show`, as real subprocesses on the served
sandbox (and `show` with no network at all)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from reconcile.plans.file import MARKER, SigningKey
from tests.conftest import TEST_API_KEY
from tests.plans.file.saved_support import (
    EXAMPLE,
    TEST_SIGNING_KEY,
    customers_file,
    ok,
    plan_json,
    read_plan,
    reconcile,
    refused,
    uid,
    unique_owner,
)

ROOT = Path(__file__).resolve().parents[3]
SIGNING_KEY_ID = SigningKey(TEST_SIGNING_KEY.encode(), "tests").key_id
CLOSED_PORT = "http://127.0.0.1:9"


def mixed_state(tmp_path: Path, url: str) -> tuple[str, Path]:
    """A file whose plan has creates, updates, deletes and notes against live companies."""
    owner = unique_owner()
    first = customers_file(tmp_path, owner)
    ok(reconcile("apply", str(first), "--auto-approve", url=url))
    text = first.read_text()
    changed = (
        text.replace("name: Globex Ltd", "name: Globex Limited")
        .replace("accounting: xero", "accounting: quickbooks-online")
        .replace("tags: {region: de}", "tags: {region: fr}")
        + "\n  - uid: cus-0100\n    name: Newcomer\n    accounting: xero\n"
    )
    return owner, customers_file(tmp_path, owner, changed)


@pytest.mark.slow
def test_two_json_plans_of_the_same_inputs_differ_only_in_observed_at(
    tmp_path: Path, sandbox_url: str
) -> None:
    _, path = mixed_state(tmp_path, sandbox_url)
    one = plan_json(ok(reconcile("plan", str(path), "--format", "json", url=sandbox_url)))
    two = plan_json(ok(reconcile("plan", str(path), "--format", "json", url=sandbox_url)))
    assert one["summary"]["create"] and one["summary"]["update"] and one["summary"]["delete"]
    assert one["awaiting_authorization"] and one["deferred"]
    # observed_at is Codat's clock (whole seconds): it may or may not differ between the two.
    one.pop("observed_at"), two.pop("observed_at")
    assert one == two  # checksum included


@pytest.mark.slow
def test_plan_out_then_show_round_trips_text_and_json(tmp_path: Path, sandbox_url: str) -> None:
    owner, path = mixed_state(tmp_path, sandbox_url)
    out = tmp_path / "plan.json"
    made = ok(reconcile("plan", str(path), "--out", str(out), url=sandbox_url))
    assert f"reconcile apply --plan {out}" in made.stderr
    saved = read_plan(out)
    printed = plan_json(ok(reconcile("plan", str(path), "--format", "json", url=sandbox_url)))

    # Everything --format json shows, plus the saved-plan fields.
    assert saved[MARKER] is True
    assert saved["base_url"] == sandbox_url and saved["key_id"] == SIGNING_KEY_ID
    assert saved["account"] == "Codat sandbox" and saved["expires_at"] > saved["observed_at"]
    assert TEST_API_KEY not in out.read_text()
    assert saved["desired"]["files"][0]["path"] == str(path)
    assert saved["checksum"].startswith("hmac-sha256:")
    assert printed["checksum"].startswith("sha256:")
    for field, value in printed.items():
        if field not in ("checksum", "observed_at"):
            assert saved[field] == value, field
    touched = {a["company_id"] for c in saved["changes"] for a in c["actions"] if a["company_id"]}
    assert set(saved["seen"]) == touched and touched
    globex = next(c for c in saved["changes"] if c["uid"] == uid(owner, "0002"))
    assert saved["seen"][globex["company_id"]]["name"] == "Globex Ltd"
    assert {c["status"] for c in saved["seen"][globex["company_id"]]["connections"]} == {
        "PendingAuth"
    }

    # show needs no key and no network, and prints what plan printed.
    offline = {"CODAT_BASE_URL": CLOSED_PORT}
    text = ok(reconcile("show", str(out), url=None, key=None, env=offline))
    assert text.stdout == made.stdout
    assert "Its signature is valid (RECONCILE_SIGNING_KEY)" in text.stderr
    no_key = {**offline, "RECONCILE_SIGNING_KEY": ""}
    unchecked = ok(reconcile("show", str(out), url=None, key=None, env=no_key, cwd=tmp_path))
    assert unchecked.stdout == made.stdout and "signature was not checked" in unchecked.stderr
    other = {**offline, "RECONCILE_SIGNING_KEY": "another-signing-key-Zq8wR2vX5tK9mB3nL7"}
    assert "another signing key" in refused(reconcile("show", str(out), url=None, env=other))
    as_json = ok(reconcile("show", str(out), "--format", "json", url=None, key=None))
    assert json.loads(as_json.stdout) == saved
    assert as_json.stdout == out.read_text()


@pytest.mark.slow
def test_plan_out_then_show_round_trips_markdown(tmp_path: Path, sandbox_url: str) -> None:
    owner, path = mixed_state(tmp_path, sandbox_url)
    out = tmp_path / "plan.json"
    made = ok(
        reconcile("plan", str(path), "--out", str(out), "--format", "markdown", url=sandbox_url)
    )
    assert "<details>" in made.stdout and uid(owner, "0002") in made.stdout
    assert len(read_plan(out)["changes"]) == made.stdout.count("<details>")
    shown = ok(reconcile("show", str(out), "--format", "markdown", url=None, key=None))
    assert shown.stdout == made.stdout


def test_plan_file_is_written_private_and_whole(tmp_path: Path, sandbox_url: str) -> None:
    path = customers_file(tmp_path, unique_owner())
    out = tmp_path / "plans" / "plan.json"
    out.parent.mkdir()
    out.write_text("an older plan")
    out.chmod(0o644)
    ok(reconcile("plan", str(path), "--out", str(out), url=sandbox_url))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert read_plan(out)["summary"]["create"] == 12
    assert [p.name for p in out.parent.iterdir()] == ["plan.json"]  # no temporary file left


def test_plan_out_to_an_unwritable_place_is_a_clean_error(tmp_path: Path, sandbox_url: str) -> None:
    path = customers_file(tmp_path, unique_owner())
    message = refused(
        reconcile(
            "plan", str(path), "--out", str(tmp_path / "no" / "dir" / "p.json"), url=sandbox_url
        )
    )
    assert "cannot write" in message


def test_refused_plan_saves_nothing(tmp_path: Path, sandbox_url: str) -> None:
    owner = unique_owner()
    ok(reconcile("apply", str(customers_file(tmp_path, owner)), "--auto-approve", url=sandbox_url))
    empty = customers_file(tmp_path, owner, "version: 1\nowner: expenses-demo\ncustomers: []\n")
    out = tmp_path / "plan.json"
    message = refused(reconcile("plan", str(empty), "--out", str(out), url=sandbox_url))
    assert "--allow-empty" in message
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json at all", "not a plan file"),
        ('{"format_version": "7", "saved_plan": true}', 'format_version "7" is unknown'),
        # unsigned: refused by its signature, before its schema is even looked at
        ('{"format_version": "1", "saved_plan": true, "owner": 3}', "another signing key"),
        ('{"format_version": "1", "format_version": "1"}', 'duplicate key "format_version"'),
        ("[1, 2]", "not a plan file"),
    ],
)
def test_show_refuses_what_is_not_a_plan(tmp_path: Path, content: str, expected: str) -> None:
    planfile = tmp_path / "p.json"
    planfile.write_text(content)
    message = refused(reconcile("show", str(planfile), url=None, key=None))
    assert expected in message


def test_show_explains_a_printed_plan_is_not_a_saved_one(tmp_path: Path, sandbox_url: str) -> None:
    path = customers_file(tmp_path, unique_owner())
    printed = ok(reconcile("plan", str(path), "--format", "json", url=sandbox_url))
    planfile = tmp_path / "printed.json"
    planfile.write_text(printed.stdout)
    message = refused(reconcile("show", str(planfile), url=None, key=None))
    assert "--out" in message


# ---------------------------------------------------------------------- CODAT_API_KEY_FILE


def test_key_from_a_file_strips_the_trailing_newline(tmp_path: Path, sandbox_url: str) -> None:
    secret = tmp_path / "codat-key"
    secret.write_text(TEST_API_KEY + "\n")
    out = tmp_path / "plan.json"
    path = customers_file(tmp_path, unique_owner())
    env = {"CODAT_API_KEY_FILE": str(secret)}
    ok(reconcile("plan", str(path), "--out", str(out), url=sandbox_url, key=None, env=env))
    assert read_plan(out)["key_id"] == SIGNING_KEY_ID  # the signing key's, not the API key's


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("both", "set only one of them"),
        ("missing", "cannot be read"),
        ("empty", "is empty"),
    ],
)
def test_key_file_problems_are_clean_errors(
    tmp_path: Path, sandbox_url: str, setup: str, expected: str
) -> None:
    secret = tmp_path / "codat-key"
    if setup == "empty":
        secret.write_text("\n")
    elif setup == "both":
        secret.write_text(TEST_API_KEY)
    key = TEST_API_KEY if setup == "both" else None
    env = {"CODAT_API_KEY_FILE": str(secret)}
    result = reconcile("plan", str(EXAMPLE), url=sandbox_url, key=key, env=env)
    message = refused(result)
    assert expected in message
    assert TEST_API_KEY not in message + result.stdout


def test_the_local_flow_of_the_gitops_guide_runs(tmp_path: Path) -> None:
    """docs/gitops.md "Locally": plan --out, show, apply PLANFILE on the embedded sandbox."""
    guide = (ROOT / "docs" / "gitops.md").read_text()
    block = guide.split("## Locally", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split() for line in block.splitlines() if line.startswith("reconcile ")]
    assert [c[1] for c in commands] == ["plan", "show", "apply"]
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "customers.yaml").write_text(EXAMPLE.read_text())
    for command in commands:
        ok(reconcile(*command[1:], url=None, key=None, cwd=tmp_path))
    again = reconcile(
        "plan",
        "examples/customers.yaml",
        "--sandbox",
        "--detailed-exitcode",
        url=None,
        key=None,
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stdout + again.stderr
