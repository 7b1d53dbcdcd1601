"""`reconcile audit` end to end: a served sandbox with one of every finding, real subprocesses."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.audit.fleet import OWNER, Fleet, build_fleet, served
from tests.conftest import TEST_API_KEY
from tests.support.cli import reconcile

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "audit.schema.json").read_text())
ALL_KINDS = (
    "cut_off",
    "changes",
    "follow_ups",
    "refused",
    "awaiting_authorization",
    "stale_authorization",
    "needs_reauthorization",
    "connection_errors",
    "duplicates",
    "orphans",
    "unmanaged_lookalikes",
    "foreign",
)
HEALTH_KINDS = ("at_risk", "degraded", "missing_references")  # only with --health
SETTINGS_KINDS = ("account_settings",)  # only with an environment's settings


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("audit")
    with served(directory) as (url, db, log):
        yield build_fleet(directory, url, db, log)


def audit(fleet: Fleet, *args: str) -> Any:
    return reconcile("audit", str(fleet.file), *args, env=fleet.env())


def audit_json(fleet: Fleet, *args: str) -> dict[str, Any]:
    result = audit(fleet, "--format", "json", *args)
    assert result.returncode in (0, 2), result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    return doc


def of(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["kind"] == kind]


def test_every_kind_is_found_with_its_facts(fleet: Fleet) -> None:
    doc = audit_json(fleet)
    assert doc["drift"] is True and doc["owner"] == OWNER
    ids = fleet.ids

    changes = {(f["uid"], f["facts"]["action"]) for f in of(doc, "changes")}
    assert changes == {("change-1", "update_company"), ("new-1", "create_company")}
    rename = next(f for f in of(doc, "changes") if f["uid"] == "change-1")
    assert rename["facts"]["diff"] == [
        {"field": "name", "before": "Renamed Ltd", "after": "Renamed Limited"}
    ]
    assert 'name: "Renamed Ltd" -> "Renamed Limited"' in rename["detail"]
    assert "differs from the file" not in rename["detail"]
    assert rename["who"] == "review" and rename["facts"]["policy_kind"] == "company_restore"

    [ready] = of(doc, "follow_ups")  # authorized since the apply: converge's to do
    assert (ready["uid"], ready["facts"]["action"]) == ("ready-1", "create_partner_expense")
    assert ready["who"] == "converge"

    # Counted once: the duplicate and the foreign id are not also refusals.
    refused = {(f["uid"], f["facts"]["subject"]) for f in of(doc, "refused")}
    assert {uid for uid, _ in refused} == {"guard-1"}
    assert all(f["who"] == "person" for f in of(doc, "refused"))

    [awaiting] = of(doc, "awaiting_authorization")
    assert awaiting["uid"] == "pending-1" and awaiting["name"] == "Pending Co"
    assert awaiting["link_url"] is None and awaiting["since"]  # Link URLs only when asked
    assert awaiting["facts"]["age_seconds"] >= 0 and awaiting["who"] == "customer"
    assert of(doc, "stale_authorization") == []

    [reauth] = of(doc, "needs_reauthorization")
    assert reauth["uid"] == "deauth-1" and reauth["link_url"] is None
    # Off a terminal, --link-urls needs --json-out: the private file alone gets them.
    refused = audit(fleet, "--format", "json", "--link-urls")
    assert refused.returncode == 1 and "--json-out FILE" in refused.stderr
    private = fleet.file.parent / "private.json"
    shown = audit_json(fleet, "--link-urls", "--json-out", str(private))
    asked = json.loads(private.read_text())
    assert all(f["link_url"].startswith("http") for f in of(asked, "awaiting_authorization"))
    pending_id = of(asked, "awaiting_authorization")[0]["company_id"]
    assert pending_id in fleet.ids.values() or re.fullmatch(r"[0-9a-f-]{36}", pending_id)
    # A company awaiting authorization: its id is a Link URL, left out like the URLs.
    assert awaiting["company_id"] is None
    assert pending_id not in json.dumps(doc) and pending_id not in json.dumps(shown)

    [dup] = of(doc, "duplicates")
    assert dup["uid"] == "dup-1" and ids["dup-1 twin"] in dup["facts"]["company_ids"]
    assert len(dup["facts"]["company_ids"]) == 2

    orphans = {f["company_id"]: f["uid"] for f in of(doc, "orphans")}
    assert orphans == {ids["orphan-1"]: "orphan-1", ids["no-uid"]: None}

    lookalikes = {f["uid"]: f["company_id"] for f in of(doc, "unmanaged_lookalikes")}
    assert lookalikes == {
        "pending-1": ids["lookalike pending-1"],
        "new-1": ids["lookalike new-1"],
    }
    new = next(f for f in of(doc, "unmanaged_lookalikes") if f["uid"] == "new-1")
    assert f"id: {ids['lookalike new-1']}" in new["detail"]

    [foreign] = of(doc, "foreign")
    assert foreign["uid"] == "foreign-1" and foreign["company_id"] == ids["foreign"]
    assert foreign["facts"]["company_owner"] == "other-team"

    assert doc["summary"] == {
        k: len(of(doc, k)) for k in (*ALL_KINDS, *HEALTH_KINDS, *SETTINGS_KINDS)
    }
    assert sum(doc["by_who"].values()) == len(doc["findings"])
    assert doc["companies_read"] == 16 and doc["managed_companies"] == 12
    assert doc["new"] is None and doc["since_report"] is None

    # cut-1's Linked Xero was deleted in the portal: a person hears the customer was cut off,
    # not a routine create waiting for review.
    [cut] = of(doc, "cut_off")
    assert (cut["uid"], cut["company_id"], cut["who"]) == ("cut-1", ids["cut-1"], "person")
    assert cut["facts"]["action"] == "create_connection"
    assert "deleted outside the tool: the customer must authorize again" in cut["detail"]
    assert "cut-1" not in {f["uid"] for f in of(doc, "changes")}

    [error] = of(doc, "connection_errors")
    assert error["uid"] == "err-1" and error["name"] == "O'Broken Books 42"
    assert error["facts"]["message"] == "Token expired <b>now</b>" and error["since"]
    assert error["facts"]["status_code"] == "401" and "401" in error["detail"]


def test_costs_what_a_plan_costs(fleet: Fleet) -> None:
    result = audit(fleet)
    # No config is due: one list (a plan reads the key's account beside it, to show it).
    assert "(1 request)" in result.stderr, result.stderr


def test_stale_after_splits_awaiting_into_stale(fleet: Fleet) -> None:
    doc = audit_json(fleet, "--stale-after", "1h")  # pending-1 has waited two hours (fleet.py)
    assert of(doc, "awaiting_authorization") == []
    [stale] = of(doc, "stale_authorization")
    assert stale["uid"] == "pending-1" and "more than 1h" in stale["detail"]
    assert doc["stale_after"] == "1h" and doc["stale_after_seconds"] == 3600
    # The control: under three hours it is still only awaiting.
    later = audit_json(fleet, "--stale-after", "3h")
    assert of(later, "stale_authorization") == []
    assert [f["uid"] for f in of(later, "awaiting_authorization")] == ["pending-1"]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_fail_on_each_kind(fleet: Fleet, kind: str) -> None:
    stale = ("--stale-after", "1h") if kind == "stale_authorization" else ()
    drift = audit(fleet, "--fail-on", kind, *stale)
    assert drift.returncode == 2, drift.stdout + drift.stderr
    # ok-1 is clean: with only it targeted, no kind counts.
    clean = audit(fleet, "--fail-on", kind, "--target", "ok-1", *stale)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No drift" in clean.stdout


def test_default_fail_on_ignores_informational_kinds(fleet: Fleet) -> None:
    informational = audit(fleet, "--target", "pending-1")  # awaiting + look-alike only
    assert informational.returncode == 0, informational.stdout
    assert "Awaiting customer authorization (1)  (informational):" in informational.stdout
    assert audit(fleet, "--target", "deauth-1").returncode == 2  # needs_reauthorization
    assert audit(fleet, "--target", "err-1").returncode == 2  # connection_errors


def test_text_groups_by_who_must_act(fleet: Fleet) -> None:
    out = audit(fleet).stdout
    titles = [
        "== For a person",
        "Cut off: deleted outside the tool",
        "Duplicates",
        "Foreign",
        "Refused",
        "Connection errors",
        "Orphans",
        "Unmanaged look-alikes",
        "== For a review",
        "Changes waiting for a reviewed apply",
        "== For converge",
        "Follow-ups ready",
        "== For the customer",
        "Needs re-authorization",
        "Awaiting customer authorization",
    ]
    order = [out.index(t) for t in titles]
    assert order == sorted(order)
    assert "http" not in out  # no Link URL unless --link-urls
    assert out.rstrip().splitlines()[-1].startswith("Drift: ")


def test_markdown_escapes_codat_text(fleet: Fleet) -> None:
    result = audit(fleet, "--format", "markdown")
    assert result.returncode == 2
    out = result.stdout
    assert "<b>" not in out and "&lt;b&gt;now&lt;/b&gt;" in out
    assert out.startswith("**Drift for owner audit\\-team**")
    assert len(out) <= 65000
    assert "http" not in out  # an issue never carries a Link URL by default


@pytest.mark.parametrize(
    "args",
    [
        ("--fail-on", "changes,bogus"),
        ("--stale-after", "soon"),
        ("--format", "yaml"),
        ("--target", "nobody-1"),
    ],
)
def test_bad_options_exit_1_not_2(fleet: Fleet, args: tuple[str, ...]) -> None:
    result = audit(fleet, *args)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr


def test_invalid_file_exits_1_and_reads_nothing(fleet: Fleet, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nowner: audit-team\ncustomers:\n  - uid: a\n    nmae: x\n")
    before = len(read_log(fleet.log))
    result = reconcile("audit", str(bad), env=fleet.env())
    assert result.returncode == 1 and f"{bad}:5:5:" in result.stderr
    assert len(read_log(fleet.log)) == before


def test_unreachable_codat_exits_1(fleet: Fleet) -> None:
    env = {"CODAT_BASE_URL": "http://127.0.0.1:9", "CODAT_API_KEY": "k"}
    result = reconcile("audit", str(fleet.file), env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_audit_sends_only_gets(fleet: Fleet) -> None:
    before = len(read_log(fleet.log))
    for fmt in ("text", "json", "markdown"):
        assert audit(fleet, "--format", fmt).returncode == 2
    entries = read_log(fleet.log)[before:]
    assert entries, "the audits read nothing?"
    assert {e["method"] for e in entries} == {"GET"}
    assert all(e["idempotency_key"] is None for e in entries)


def test_a_resolved_error_is_no_longer_drift(tmp_path: Path) -> None:
    with served(tmp_path) as (url, db, _log):
        env = {"CODAT_BASE_URL": url, "CODAT_API_KEY": TEST_API_KEY}
        one = tmp_path / "one.yaml"
        one.write_text(
            "version: 1\nowner: solo\ncustomers:\n"
            "  - uid: s-1\n    name: Solo & Co\n    accounting: xero\n"
        )
        assert reconcile("apply", str(one), "--auto-approve", env=env).returncode == 0
        assert reconcile("sandbox", "authorize", "--db", str(db), "--uid", "s-1").returncode == 0
        clean = reconcile("audit", str(one), env=env)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "No drift" in clean.stdout
        error = ("sandbox", "connection-error", "--db", str(db), "--uid", "s-1")
        assert reconcile(*error, "--message", "Sync failed").returncode == 0
        drift = reconcile("audit", str(one), env=env)
        assert drift.returncode == 2 and "Sync failed" in drift.stdout
        assert reconcile(*error, "--message", "Sync failed", "--resolve").returncode == 0
        assert reconcile("audit", str(one), env=env).returncode == 0


def test_since_marks_what_is_new_and_counts_what_is_resolved(fleet: Fleet, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    audit_json(fleet, "--json-out", str(first))
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o600
    same = audit_json(fleet, "--since", str(first))
    assert same["new"] == 0 and same["resolved"] == 0 and same["since_report"]
    assert {f["new"] for f in same["findings"]} == {False}

    # Another file: change-1 renamed back (resolved), pending-1 renamed (new).
    edited = tmp_path / "customers.yaml"
    edited.write_text(
        fleet.file.read_text()
        .replace("name: Renamed Limited", "name: Renamed Ltd")
        .replace("name: Pending Co", "name: Pending Company")
    )
    result = reconcile(
        "audit", str(edited), "--since", str(first), "--format", "json", env=fleet.env()
    )
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    new = [(f["kind"], f["uid"]) for f in doc["findings"] if f["new"]]
    assert ("changes", "pending-1") in new and doc["new"] == len(new)
    assert doc["resolved"] >= 1
    assert not any(f["uid"] == "change-1" for f in of(doc, "changes"))
    md = reconcile(
        "audit", str(edited), "--since", str(first), "--format", "markdown", env=fleet.env()
    )
    assert f"**{doc['new']} new**" in md.stdout and ":new: **new** **pending\\-1**" in md.stdout


@pytest.mark.parametrize("content", ["not json", '{"kind": "plan"}', '{"kind": "audit"}'])
def test_since_with_a_bad_report_exits_1(fleet: Fleet, tmp_path: Path, content: str) -> None:
    earlier = tmp_path / "earlier.json"
    earlier.write_text(content)
    result = audit(fleet, "--since", str(earlier))
    assert result.returncode == 1 and "--since" in result.stderr
    assert "Traceback" not in result.stderr
