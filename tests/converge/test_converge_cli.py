"""`reconcile converge` end to end: real subprocesses, a served sandbox with a request log."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.layers.requestlog import read_log
from tests.audit.fleet import ok, served
from tests.conftest import AUTH_HEADERS, TEST_API_KEY
from tests.support.cli import reconcile, reconcile_argv
from tests.support.terminal import run_on_a_terminal

OWNER = "converge-team"
FILE = """\
version: 1
owner: converge-team
defaults:
  expenses: true
customers:
  - uid: auth-1
    name: Authorized Ltd
    accounting: quickbooks-online
    expenseConfig: {bankAccount: "89", supplier: "124", customer: "140"}
  - uid: pending-1
    name: Pending Co
    accounting: xero
  - uid: rename-1
    name: Rename Me
    accounting: xero
"""


class Served:
    def __init__(self, url: str, db: Path, log: Path, directory: Path) -> None:
        self.url, self.db, self.log, self.directory = url, db, log, directory
        self.file = directory / "customers.yaml"

    def env(self) -> dict[str, str]:
        return {"CODAT_BASE_URL": self.url, "CODAT_API_KEY": TEST_API_KEY}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return reconcile(*args, env=self.env(), cwd=self.directory)

    def companies(self) -> list[dict[str, Any]]:
        with httpx.Client(base_url=self.url, headers=AUTH_HEADERS, timeout=30) as http:
            answer = http.get(
                "/companies", params={"tags": f"reconcile.owner={OWNER}", "pageSize": 5000}
            )
            assert answer.status_code == 200, answer.text
            return list(answer.json()["results"])

    def company(self, uid: str) -> dict[str, Any]:
        [found] = [c for c in self.companies() if c["tags"]["reconcile.uid"] == uid]
        return found


@pytest.fixture
def served_fleet(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path) as (url, db, log):
        fleet = Served(url, db, log, tmp_path)
        fleet.file.write_text(FILE)
        ok(fleet.run("apply", str(fleet.file), "--auto-approve"))
        ok(fleet.run("sandbox", "authorize", "--db", str(db), "--uid", "auth-1"))
        ok(fleet.run("sandbox", "authorize", "--db", str(db), "--uid", "rename-1"))
        yield fleet


def writes_since(log: Path, start: int) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in read_log(log)[start:] if e["method"] != "GET"]


def test_converge_applies_only_the_pre_approved_follow_ups(served_fleet: Served) -> None:
    fleet = served_fleet
    fleet.file.write_text(FILE.replace("name: Rename Me", "name: Renamed Ltd"))
    start = len(read_log(fleet.log))
    result = fleet.run("converge", str(fleet.file))
    assert result.returncode == 2, result.stdout + result.stderr  # the rename waits for review
    auth = fleet.company("auth-1")
    renamed = fleet.company("rename-1")
    assert renamed["name"] == "Rename Me"  # not applied
    kinds = sorted(c["sourceType"] for c in auth["dataConnections"])
    assert kinds == ["Accounting", "Expense"]
    writes = writes_since(fleet.log, start)
    assert not [w for w in writes if w[0] in ("PUT", "PATCH", "DELETE")]
    assert ("POST", f"/companies/{auth['id']}/sync/expenses/config") in writes
    out = result.stdout
    assert "Waiting for review" in out and "rename-1" in out
    assert "Waiting for the customer (1)" in out and "pending-1" in out
    assert "awaiting authorization for" in out
    assert "http" not in out  # no Link URL unless asked for

    again = fleet.run("converge", str(fleet.file), "--format", "json")
    assert again.returncode == 2
    doc = json.loads(again.stdout)
    assert doc["applied"] == []  # done once: the second pass has nothing to apply
    assert [w["uid"] for w in doc["waiting"]["review"]] == ["rename-1"]
    assert [w["uid"] for w in doc["waiting"]["customer"]] == ["pending-1"]
    assert "link_url" not in doc["waiting"]["customer"][0]


def test_only_customers_waiting_exits_0_and_link_urls_go_to_a_private_file(
    served_fleet: Served,
) -> None:
    fleet = served_fleet
    ok(fleet.run("converge", str(fleet.file)))  # follow-ups done; only pending-1 waits
    out_file = fleet.directory / "links.json"
    result = fleet.run("converge", str(fleet.file), "--link-urls-out", str(out_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "http" not in result.stdout
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600
    [entry] = json.loads(out_file.read_text())
    assert entry["uid"] == "pending-1" and entry["link_url"].startswith("http")
    assert entry["company_id"] == fleet.company("pending-1")["id"]  # the control
    for leak in (entry["company_id"], entry["link_url"]):  # a company id is a Link URL
        assert leak not in result.stdout + result.stderr
    refused = fleet.run("converge", str(fleet.file), "--link-urls")  # stdout: not a terminal
    assert refused.returncode == 1 and "not a terminal" in refused.stderr
    assert entry["link_url"] not in refused.stdout
    argv = reconcile_argv("converge", str(fleet.file), "--link-urls")
    code, shown = run_on_a_terminal(argv, {**os.environ, **fleet.env()}, fleet.directory)
    assert code == 0 and entry["link_url"] in shown


def test_one_company_costs_a_handful_of_requests(served_fleet: Served) -> None:
    fleet = served_fleet
    auth = fleet.company("auth-1")
    start = len(read_log(fleet.log))
    result = fleet.run("converge", str(fleet.file), "--company", auth["id"], "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["scope"] == [auth["id"]]
    assert {a["kind"] for a in doc["applied"]} == {"create_partner_expense", "set_expense_config"}
    assert doc["waiting"] == {"customer": [], "review": [], "person": []}
    entries = read_log(fleet.log)[start:]
    # The company, the companies with its uid, its config and mapping options, the supplier and
    # customer the config names (checked before it is written), then the two writes (and a
    # re-read around them): about ten, however large the fleet.
    assert len(entries) <= 10, entries
    assert not [e for e in entries if e["path"] == "/companies" and "tags" not in e["query"]]
    owner_lists = [e for e in entries if "reconcile.owner" in (e.get("query") or "")]
    assert owner_lists == []  # never a read of the fleet


def test_a_duplicate_waits_for_a_person(served_fleet: Served) -> None:
    fleet = served_fleet
    with httpx.Client(base_url=fleet.url, headers=AUTH_HEADERS, timeout=30) as http:
        tags = {"reconcile.owner": OWNER, "reconcile.uid": "pending-1"}
        assert http.post("/companies", json={"name": "Pending Co", "tags": tags}).is_success
    result = fleet.run("converge", str(fleet.file))
    assert result.returncode == 2
    assert "Waiting for a person (1)" in result.stdout and "duplicate" in result.stdout


def test_bad_input_and_no_codat_are_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FILE.replace("defaults:", "policy:\n  auto: [unlink_connection]\ndefaults:"))
    result = reconcile("converge", str(bad), env={"CODAT_BASE_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert (
        "bad.yaml:4:10: policy.auto cannot list" in result.stderr
        and "Traceback" not in result.stderr
    )
    good = tmp_path / "good.yaml"
    good.write_text(FILE)
    down = reconcile(
        "converge", str(good), env={"CODAT_BASE_URL": "http://127.0.0.1:9", "CODAT_API_KEY": "k"}
    )
    assert down.returncode == 1 and "Traceback" not in down.stderr


def test_two_converges_and_an_apply_at_once_duplicate_nothing(served_fleet: Served) -> None:
    fleet = served_fleet
    more = "".join(
        f"  - uid: new-{i}\n    name: New {i}\n    accounting: xero\n" for i in range(1, 6)
    )
    fleet.file.write_text(FILE + more)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env.update(NO_COLOR="1", **fleet.env())

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            reconcile_argv(*args, str(fleet.file)),
            env=env,
            cwd=fleet.directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    runs = [start("converge"), start("apply", "--auto-approve"), start("converge")]
    codes = [(p.wait(timeout=300), p.communicate()) for p in runs]
    converges = [codes[0], codes[2]]
    for code, (out, err) in converges:
        assert code in (0, 2), out + err
    assert codes[1][0] == 0, codes[1][1]
    companies = fleet.companies()
    per_uid = Counter(c["tags"]["reconcile.uid"] for c in companies)
    assert per_uid == Counter({uid: 1 for uid in per_uid}) and len(per_uid) == 8
    for company in companies:
        expense = [c for c in company["dataConnections"] if c["sourceType"] == "Expense"]
        assert len(expense) <= 1, company
    auth = fleet.company("auth-1")
    assert [c["sourceType"] for c in auth["dataConnections"]].count("Expense") == 1
    # Everything settled: a last pass applies nothing and only customers wait.
    final = fleet.run("converge", str(fleet.file), "--format", "json")
    assert final.returncode == 0, final.stdout + final.stderr
    assert json.loads(final.stdout)["applied"] == []


def test_sigterm_finishes_in_flight_and_exits_143(tmp_path: Path) -> None:
    """As apply: nothing new starts, what is in flight lands, the report so far is printed."""
    from reconcile.sandbox.store import Store

    customers = "".join(
        f"  - uid: t-{i}\n    name: Term {i}\n    accounting: xero\n    expenses: true\n"
        for i in range(30)
    )
    file = tmp_path / "customers.yaml"
    file.write_text(f"version: 1\nowner: {OWNER}\ncustomers:\n{customers}")
    with served(tmp_path, "--latency-ms", "300") as (url, db, _log):
        fleet = Served(url, db, tmp_path / "log", tmp_path)
        ok(fleet.run("apply", str(file), "--auto-approve", "--parallelism", "30"))
        store = Store(db)
        for company in fleet.companies():
            [conn] = company["dataConnections"]
            store.set_connection_status(company["id"], conn["id"], "Linked")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
        env.update(NO_COLOR="1", **fleet.env())
        process = subprocess.Popen(
            reconcile_argv("converge", str(file), "--parallelism", "2"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the first follow-up landed
            expense = [
                c
                for company in fleet.companies()
                for c in company["dataConnections"]
                if c["sourceType"] == "Expense"
            ]
            if expense:
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 143, out + err
        assert "Traceback" not in err and "Stopped: terminated" in err
        assert "did not start" in out
        made = sum(
            1
            for company in fleet.companies()
            for c in company["dataConnections"]
            if c["sourceType"] == "Expense"
        )
        assert 0 < made < 30
        assert f"Applied ({made} of 30)" in out
