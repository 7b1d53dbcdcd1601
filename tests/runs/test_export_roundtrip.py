"""`reconcile export` end to end on a served sandbox: export -> validate -> plan (no changes),
with and without --adopt, and byte-identical re-exports. Only GETs reach the request log."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

from reconcile.sandbox.layers.requestlog import read_log
from tests.audit.fleet import ok, post_company, served
from tests.conftest import AUTH_HEADERS, TEST_API_KEY
from tests.support.cli import reconcile

OWNER = "export-team"
FLEET = """\
version: 1
owner: export-team
customers:
  - uid: amp-1
    name: "Smith & Sons 1999"
    description: "Yes: it's 'quoted'"
    tags: {region: uk, plan: "012"}
    accounting: xero
    expenses: true
    expenseConfig: {bankAccount: "89", supplier: "124", customer: "140"}
  - uid: at-2
    name: "hello@acme 2"
    accounting: quickbooks-online
  - uid: apos-3
    name: "O'Reilly Media"
    accounting: netsuite
    protect: true
  - uid: deauth-4
    name: Gone Away 4
    accounting: xero
  - uid: moved-5
    name: "Moved On"
    accounting: xero
  - uid: bare-6
    name: "123"
    tags: {"on": "yes"}
"""


def env(url: str) -> dict[str, str]:
    return {"CODAT_BASE_URL": url, "CODAT_API_KEY": TEST_API_KEY}


def plan_json(path: Path, url: str) -> tuple[int, dict[str, object]]:
    result = reconcile("plan", str(path), "--format", "json", "--detailed-exitcode", env=env(url))
    assert result.returncode in (0, 2), result.stderr
    return result.returncode, json.loads(result.stdout)


def actions(doc: dict[str, object]) -> list[tuple[str, str]]:
    changes = doc["changes"]
    assert isinstance(changes, list)
    return [(a["uid"], a["kind"]) for c in changes for a in c["actions"]]


def build(tmp_path: Path, url: str, db: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    ok(reconcile("apply", str(fleet), "--auto-approve", env=env(url)))
    for uid in ("amp-1", "deauth-4", "moved-5"):
        ok(reconcile("sandbox", "authorize", "--db", str(db), "--uid", uid))
    ok(reconcile("apply", str(fleet), "--auto-approve", env=env(url)))  # partner expense + config
    ok(reconcile("sandbox", "deauthorize", "--db", str(db), "--uid", "deauth-4"))
    # moved-5 moves from Xero (Linked) to QuickBooks: the Xero one ends Unlinked.
    moved = tmp_path / "moved.yaml"
    moved.write_text(
        FLEET.replace(
            'name: "Moved On"\n    accounting: xero', 'name: "Moved On"\n    accounting: qbo'
        )
    )
    ok(reconcile("apply", str(moved), "--auto-approve", env=env(url)))
    with httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http:
        post_company(http, "Jones & Co", {"region": "us"})
        post_company(http, "JONES & CO", {})
        post_company(http, "Kelly's @ 7", {f"k{n}": "v" for n in range(10)})
        post_company(http, "Not Ours", {"reconcile.owner": "other-team", "reconcile.uid": "x"})


def test_round_trips_with_and_without_adopt(tmp_path: Path) -> None:
    with served(tmp_path) as (url, db, log):
        build(tmp_path, url, db)
        before = len(read_log(log))

        exported = tmp_path / "exported.yaml"
        result = ok(reconcile("export", "--owner", OWNER, "--out", str(exported), env=env(url)))
        text = exported.read_text()
        assert "Jones" not in text and "Not Ours" not in text
        names = {c["name"] for c in yaml.safe_load(text)["customers"]}
        assert {"Smith & Sons 1999", "hello@acme 2", "O'Reilly Media", "123"} <= names
        assert 'name: "123"' in text
        assert 'plan: "012"' in text and '"on": "yes"' in text and "protect: true" in text
        assert 'bankAccount: "89"' in text and "accounting: quickbooks-online" in text
        ok(reconcile("validate", str(exported)))
        code, doc = plan_json(exported, url)
        assert (code, actions(doc), doc["refused"]) == (0, [], [])

        again = tmp_path / "again.yaml"
        ok(reconcile("export", "--owner", OWNER, "--out", str(again), env=env(url)))
        assert again.read_bytes() == exported.read_bytes()
        stdout = ok(reconcile("export", "--owner", OWNER, env=env(url)))
        assert stdout.stdout == text

        adopted = tmp_path / "adopted.yaml"
        args = ("export", "--owner", OWNER, "--adopt", "--out", str(adopted), "--verbose")
        result = ok(reconcile(*args, env=env(url)))
        assert "Warning:" in result.stderr and "more than 8 user tags fit" in result.stderr
        lines = result.stderr.splitlines()
        summary = next(i for i, line in enumerate(lines) if line.startswith("Warnings by kind ("))
        assert all(i < summary for i, line in enumerate(lines) if line.startswith("Warning:"))
        atext = adopted.read_text()
        assert "uid: jones-co\n" in atext and "uid: jones-co-2\n" in atext
        assert atext.count("# export: 2 untagged companies are named ") == 2
        assert "uid: kelly-s-7\n" in atext and "Not Ours" not in atext
        ok(reconcile("validate", str(adopted)))
        code, doc = plan_json(adopted, url)
        assert code == 2
        assert Counter(kind for _, kind in actions(doc)) == Counter({"update_company": 3})
        reasons = {a["uid"]: a["reason"] for c in doc["changes"] for a in c["actions"]}
        assert all(r.startswith("adopting: adds the ownership tags") for r in reasons.values())
        # The two tags the file had no room for:
        assert "removes tags k8, k9" in reasons["kelly-s-7"]
        assert all(e["method"] == "GET" for e in read_log(log)[before:])

        ok(reconcile("apply", str(adopted), "--auto-approve", env=env(url)))
        code, doc = plan_json(adopted, url)
        assert (code, actions(doc)) == (0, [])
        after = tmp_path / "after.yaml"
        ok(reconcile("export", "--owner", OWNER, "--out", str(after), env=env(url)))
        expected = "".join(
            line + "\n"
            for line in atext.splitlines()
            # applied: gone (adopted companies are managed now, tagged with their own uids)
            if not line.startswith(
                ("    id: ", "  # export: tag k", "  # export: 2 untagged companies are named")
            )
        )
        expected = expected.replace(" --adopt`", "`").replace(", 3 of them to adopt (id:)", "")
        assert after.read_text() == expected


def test_bad_owner_and_options_exit_1(tmp_path: Path) -> None:
    bad = reconcile("export", "--owner", "-nope", "--sandbox-db", str(tmp_path / "s.db"))
    assert bad.returncode == 1 and "not a valid owner" in bad.stderr
    assert reconcile("export").returncode == 1  # --owner missing: a usage error is exit 1


@pytest.mark.slow
def test_six_thousand_companies_across_pages(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    ok(reconcile("sandbox", "seed", "--db", str(db), "--companies", "6000", "--owner", OWNER))
    with served(tmp_path) as (url, _db, log):
        exported = tmp_path / "exported.yaml"
        ok(reconcile("export", "--owner", OWNER, "--adopt", "--out", str(exported), env=env(url)))
        lists = [e for e in read_log(log) if e["path"] == "/companies"]
        assert len(lists) == 2 and all("pageSize=5000" in e["query"] for e in lists)
        configs = [e for e in read_log(log) if e["path"].endswith("/sync/expenses/config")]
        ok(reconcile("validate", str(exported)))
        code, doc = plan_json(exported, url)
        kinds = Counter(kind for _, kind in actions(doc))
        assert set(kinds) <= {"update_company"}, kinds
        assert doc["refused"] == []
        assert len(configs) > 0
        text = exported.read_text()
        assert text.count("\n  - uid: ") > 4000
        ok(reconcile("apply", str(exported), "--auto-approve", "--parallelism", "20", env=env(url)))
        code, doc = plan_json(exported, url)
        assert (code, actions(doc)) == (0, [])
        plain = tmp_path / "plain.yaml"
        ok(reconcile("export", "--owner", OWNER, "--out", str(plain), env=env(url)))
        again = tmp_path / "again.yaml"
        ok(reconcile("export", "--owner", OWNER, "--out", str(again), env=env(url)))
        assert plain.read_bytes() == again.read_bytes()
        code, doc = plan_json(plain, url)
        assert (code, actions(doc)) == (0, [])
