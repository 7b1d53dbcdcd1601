"""`apply PLANFILE` end to end: real `reconcile` subprocesses against a real served sandbox with
a request log, Codat changed behind the plan's back by the tests (over HTTP, and as the customer
through `reconcile sandbox authorize|deauthorize`)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.plans.file import SigningKey
from reconcile.plans.file.document import canonical
from reconcile.sandbox.layers.requestlog import read_log
from tests.conftest import AUTH_HEADERS
from tests.conftest import TEST_API_KEY as AUTH_KEY
from tests.plans.file.saved_support import (
    TEST_SIGNING_KEY,
    customers_file,
    ok,
    read_plan,
    reconcile,
    refused,
    uid,
    unique_owner,
)
from tests.support.cli import reconcile_argv
from tests.support.sandbox_server import serve_sandbox

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Served:
    url: str
    db: Path
    log: Path

    def mark(self) -> int:
        """The log position after every request made so far. The server writes a request's
        line after answering it, so a sentinel request is sent and waited for."""
        sentinel = f"/companies/mark-{uuid.uuid4()}"
        with self.http() as client:
            client.get(sentinel)
        deadline = time.monotonic() + 10
        while True:
            entries = read_log(self.log)
            found = [i for i, e in enumerate(entries) if e["path"] == sentinel]
            if found:
                return found[0] + 1
            assert time.monotonic() < deadline, "the sandbox did not log the sentinel"
            time.sleep(0.02)

    def since(self, mark: int) -> list[dict[str, Any]]:
        return read_log(self.log)[mark:]

    def writes_since(self, mark: int) -> list[dict[str, Any]]:
        return [e for e in self.since(mark) if e["method"] in WRITES]

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=AUTH_HEADERS, timeout=30)

    def companies(self, owner: str) -> list[dict[str, Any]]:
        with self.http() as client:
            answer = client.get(
                "/companies", params={"tags": f"reconcile.owner={owner}", "pageSize": 5000}
            )
            answer.raise_for_status()
            results: list[dict[str, Any]] = answer.json()["results"]
            return results

    def company_of(self, owner: str, number: str) -> dict[str, Any]:
        (company,) = [
            c for c in self.companies(owner) if c["tags"]["reconcile.uid"] == uid(owner, number)
        ]
        return company


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("saved-apply")
    db, log = root / "sandbox.db", root / "requests.jsonl"
    with serve_sandbox(db, "--request-log", str(log), "--daily-quota", "10000000") as url:
        yield Served(url, db, log)


@dataclass(frozen=True)
class Scenario:
    owner: str
    path: Path
    planfile: Path
    globex: dict[str, Any]  # the live company of cus-0002 when the plan was made


def applied_example(tmp_path: Path, served: Served, *, authorize_globex: bool) -> str:
    owner = unique_owner()
    ok(reconcile("apply", str(customers_file(tmp_path, owner)), "--auto-approve", url=served.url))
    if authorize_globex:
        globex = served.company_of(owner, "0002")
        customer("authorize", served, globex["id"])
    return owner


def customer(action: str, served: Served, company_id: str) -> None:
    ok(reconcile("sandbox", action, "--db", str(served.db), "--company", company_id, url=None))


def saved_plan(tmp_path: Path, served: Served, owner: str, edit: Callable[[str], str]) -> Scenario:
    text = customers_file(tmp_path, owner).read_text()
    path = customers_file(tmp_path, owner, edit(text.replace(owner + "-", "cus-")))
    planfile = tmp_path / "plan.json"
    ok(reconcile("plan", str(path), "--out", str(planfile), url=served.url))
    read_plan(planfile)
    return Scenario(owner, path, planfile, served.company_of(owner, "0002"))


def rename_globex(text: str) -> str:
    return text.replace("name: Globex Ltd", "name: Globex Limited")


def add_newcomer(text: str) -> str:
    return text + "\n  - uid: cus-0100\n    name: Newcomer\n    accounting: xero\n"


def move_globex(text: str) -> str:
    """Globex from Xero to QuickBooks: the plan retires its Xero connection."""
    return text.replace("accounting: xero", "accounting: quickbooks-online")


# ---------------------------------------------------------------------- changes behind its back


def _patch_company(**fields: Any) -> Callable[[Served, Scenario], None]:
    def change(served: Served, s: Scenario) -> None:
        body = {k: v(s.globex) if callable(v) else v for k, v in fields.items()}
        with served.http() as client:
            client.patch(f"/companies/{s.globex['id']}", json=body).raise_for_status()

    return change


def _as_customer(action: str) -> Callable[[Served, Scenario], None]:
    def change(served: Served, s: Scenario) -> None:
        customer(action, served, s.globex["id"])

    return change


def _unlink(served: Served, s: Scenario) -> None:
    (conn,) = s.globex["dataConnections"]
    path = f"/companies/{s.globex['id']}/connections/{conn['id']}"
    with served.http() as client:
        client.patch(path, json={"status": "Unlinked"}).raise_for_status()


def _delete(served: Served, s: Scenario) -> None:
    with served.http() as client:
        client.delete(f"/companies/{s.globex['id']}").raise_for_status()


def _create_twin(served: Served, s: Scenario) -> None:
    tags = {"reconcile.owner": s.owner, "reconcile.uid": uid(s.owner, "0100")}
    with served.http() as client:
        client.post("/companies", json={"name": "Newcomer", "tags": tags}).raise_for_status()


def _tags(globex: dict[str, Any]) -> dict[str, str]:
    return {**globex["tags"], "crm": "SF-123"}


STALE_CASES = {
    # name: (authorized before planning, file edit, change behind the back, expected words)
    "rename": (False, rename_globex, _patch_company(name="Globex Corp"), 'name "Globex Ltd" -> '),
    "tag change": (False, rename_globex, _patch_company(tags=_tags), "tag added crm=SF-123"),
    "authorize": (False, move_globex, _as_customer("authorize"), "PendingAuth -> Linked"),
    "deauthorize": (True, move_globex, _as_customer("deauthorize"), "Linked -> Deauthorized"),
    "company deleted": (False, rename_globex, _delete, '"Globex Ltd": deleted'),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(STALE_CASES))
def test_stale_plan_is_refused_naming_what_changed(
    tmp_path: Path, served: Served, case: str
) -> None:
    authorized, edit, change, expected = STALE_CASES[case]
    owner = applied_example(tmp_path, served, authorize_globex=authorized)
    scenario = saved_plan(tmp_path, served, owner, edit)
    change(served, scenario)
    mark = served.mark()
    message = refused(reconcile("apply", str(scenario.planfile), url=served.url))
    assert "changed behind the plan" in message and expected in message, message
    assert "Nothing was changed" in message
    assert served.writes_since(mark) == []
    assert f"company {scenario.globex['id']}" in message


PARTLY_CASES = {
    # name: (authorized before planning, file edit, change behind the back)
    "unlinked behind": (True, move_globex, _unlink),
    "company created behind": (False, add_newcomer, _create_twin),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(PARTLY_CASES))
def test_what_landed_behind_the_plan_counts_as_done_and_the_rest_is_applied(
    tmp_path: Path, served: Served, case: str
) -> None:
    """Issue 25, case 11: the landed action is done, the remaining one (its customer as the
    plan saw it, but for what the landed action did) is applied; exit 0; nothing is left."""
    authorized, edit, change = PARTLY_CASES[case]
    owner = applied_example(tmp_path, served, authorize_globex=authorized)
    scenario = saved_plan(tmp_path, served, owner, edit)
    change(served, scenario)
    mark = served.mark()
    result = ok(reconcile("apply", str(scenario.planfile), url=served.url))
    assert "partly applied: 1 of 2 actions already landed" in result.stderr, result.stderr
    assert "1 remaining action(s) of customers as the plan saw them are applied" in result.stderr
    writes = served.writes_since(mark)
    assert [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in writes] == [
        ("POST", "connections")
    ], writes
    again = reconcile("plan", str(scenario.path), "--detailed-exitcode", url=served.url)
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.slow
def test_a_rename_is_not_stale_when_the_customer_authorizes(tmp_path: Path, served: Served) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=False)
    scenario = saved_plan(tmp_path, served, owner, rename_globex)
    customer("authorize", served, scenario.globex["id"])
    ok(reconcile("apply", str(scenario.planfile), url=served.url))
    assert served.company_of(owner, "0002")["name"] == "Globex Limited"


# ---------------------------------------------------------------------- refused before any read


@pytest.fixture
def scenario(tmp_path: Path, served: Served) -> Scenario:
    owner = applied_example(tmp_path, served, authorize_globex=False)
    return saved_plan(tmp_path, served, owner, rename_globex)


def _edit_body(doc: dict[str, Any]) -> None:
    doc["changes"][0]["actions"][0]["request"]["body"]["name"] = "Evil Corp"


def _future_version(doc: dict[str, Any]) -> None:
    doc["format_version"] = "2"


def _forge_delete(doc: dict[str, Any]) -> None:
    """Someone holding the signing key makes the rename send a DELETE, and signs it."""
    action = doc["changes"][0]["actions"][0]
    assert action["kind"] == "update_company"
    action["request"] = {
        "method": "DELETE",
        "path": f"/companies/{action['company_id']}",
        "body": None,
    }
    doc["checksum"] = SigningKey(TEST_SIGNING_KEY.encode(), "test").mac(canonical(doc))


OTHER_SIGNING_KEY = "another-signing-key-" + "9f3Kq7Zx2Lm8Wv4R" * 2


@pytest.mark.parametrize(
    ("edit", "env", "expected"),
    [
        (_edit_body, {}, "was edited after it was saved"),
        (_forge_delete, {}, "was edited: what it would send is not what its actions show"),
        (None, {"RECONCILE_SIGNING_KEY": OTHER_SIGNING_KEY}, "signed with another signing key"),
        (None, {"BASE": "localhost"}, "was made against"),
        (_future_version, {}, 'format_version "2" is unknown'),
    ],
    ids=["edited", "forged-request", "other-signing-key", "other-base-url", "future-version"],
)
def test_plan_that_must_not_run_is_refused_before_any_request(
    served: Served, scenario: Scenario, edit: Any, env: dict[str, str], expected: str
) -> None:
    if edit is not None:
        doc = json.loads(scenario.planfile.read_text())
        edit(doc)
        scenario.planfile.write_text(json.dumps(doc))
    url = served.url
    if env.pop("BASE", None):
        url = url.replace("127.0.0.1", "localhost")
    mark = served.mark()
    result = reconcile("apply", str(scenario.planfile), url=url, env=env)
    message = refused(result)
    assert expected in message, message
    assert served.since(mark) == []  # not even a read
    assert OTHER_SIGNING_KEY not in message + result.stdout
    assert served.company_of(scenario.owner, "0002")["name"] == "Globex Ltd"


def test_printed_plan_is_not_applied(tmp_path: Path, served: Served, scenario: Scenario) -> None:
    printed = ok(reconcile("plan", str(scenario.path), "--format", "json", url=served.url))
    planfile = tmp_path / "printed.json"
    planfile.write_text(printed.stdout)
    mark = served.mark()
    assert "--out" in refused(reconcile("apply", str(planfile), url=served.url))
    assert served.since(mark) == []


def test_plan_of_other_file_contents_is_refused(served: Served, scenario: Scenario) -> None:
    mark = served.mark()
    same = ok(reconcile("apply", str(scenario.planfile), str(scenario.path), url=served.url))
    assert "Apply complete" in same.stdout
    after = served.mark()
    scenario.path.write_text(
        scenario.path.read_text().replace("name: Globex Limited", "name: Globex Plc")
    )
    message = refused(
        reconcile("apply", str(scenario.planfile), str(scenario.path), url=served.url)
    )
    assert "the files changed after the plan was made" in message
    assert uid(scenario.owner, "0002") in message
    assert served.since(after) == [] and served.writes_since(mark)


def test_planning_flags_cannot_change_a_saved_plan(served: Served, scenario: Scenario) -> None:
    message = refused(
        reconcile("apply", str(scenario.planfile), "--target", "cus-0001", url=served.url)
    )
    assert "cannot change the saved plan" in message


# ---------------------------------------------------------------------- exactly the plan's writes


def _expected_writes(doc: dict[str, Any]) -> Counter[tuple[str, str]]:
    return Counter(
        (a["request"]["method"], a["request"]["path"]) for c in doc["changes"] for a in c["actions"]
    )


def _normalised(entries: list[dict[str, Any]], known: set[str]) -> Counter[tuple[str, str]]:
    """Paths with the ids of companies created during apply written as {companyId}."""

    def path(p: str) -> str:
        match = re.match(r"^/companies/([^/]+)(.*)$", p)
        if match and match.group(1) not in known:
            return "/companies/{companyId}" + match.group(2)
        return p

    return Counter((e["method"], path(e["path"])) for e in entries)


@pytest.mark.slow
def test_apply_planfile_sends_exactly_the_plans_writes(tmp_path: Path, served: Served) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=True)

    def edit(text: str) -> str:
        moved = text.replace("accounting: xero", "accounting: quickbooks-online")
        return add_newcomer(moved.replace("name: Hooli & Partners", "name: Hooli and Partners"))

    s = saved_plan(tmp_path, served, owner, edit)
    doc = read_plan(s.planfile)
    kinds = Counter(a["kind"] for c in doc["changes"] for a in c["actions"])
    assert kinds == {
        "create_company": 1,
        "create_connection": 2,
        "update_company": 1,
        "unlink_connection": 1,
    }, kinds
    mark = served.mark()
    result = ok(reconcile("apply", str(s.planfile), url=served.url))
    assert "Apply complete" in result.stdout
    writes = served.writes_since(mark)
    assert all(200 <= e["status"] < 300 for e in writes), writes
    assert _normalised(writes, set(doc["seen"])) == _expected_writes(doc)
    planned_keys = {
        a["idempotency_key"]
        for c in doc["changes"]
        for a in c["actions"]
        if a["company_id"] is not None and a["idempotency_key"]
    }
    assert planned_keys <= {e["idempotency_key"] for e in writes}
    converged = reconcile("plan", str(s.path), "--detailed-exitcode", url=served.url)
    assert converged.returncode == 0, converged.stdout + converged.stderr


@pytest.mark.slow
def test_empty_saved_plan_applies_nothing(tmp_path: Path, served: Served) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=False)
    s = saved_plan(tmp_path, served, owner, lambda text: text)
    assert read_plan(s.planfile)["changes"] == []
    mark = served.mark()
    result = ok(reconcile("apply", str(s.planfile), url=served.url))
    assert "Nothing to apply" in result.stderr
    assert served.since(mark) == []


# ---------------------------------------------------------------------- killed halfway


@pytest.mark.slow
def test_killed_halfway_then_its_plan_rerun_finishes_without_duplicates(tmp_path: Path) -> None:
    db, log = tmp_path / "slow.db", tmp_path / "requests.jsonl"
    args = ("--request-log", str(log), "--latency-ms", "150", "--daily-quota", "10000000")
    with serve_sandbox(db, *args) as url:
        slow = Served(url, db, log)
        owner = unique_owner()
        path = customers_file(tmp_path, owner)
        planfile = tmp_path / "plan.json"
        ok(reconcile("plan", str(path), "--out", str(planfile), url=url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
        env.update(CODAT_BASE_URL=url, CODAT_API_KEY=AUTH_KEY, NO_COLOR="1")
        env["RECONCILE_SIGNING_KEY"] = TEST_SIGNING_KEY
        mark = slow.mark()
        process = subprocess.Popen(
            reconcile_argv("apply", str(planfile), "--parallelism", "1"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len([e for e in slow.writes_since(mark) if e["path"] == "/companies"]) < 2:
            assert process.poll() is None, "apply finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        created = len(slow.companies(owner))
        assert 2 <= created < 6

        # The killed apply's reviewed plan, run again, finishes what was reviewed (issue 25,
        # case 11): what landed counts as done, the rest is applied, exit 0.
        rerun = ok(reconcile("apply", str(planfile), url=url))
        assert re.search(r"partly applied: \d+ of 12 actions already landed", rerun.stderr), rerun
        again = reconcile("plan", str(path), "--detailed-exitcode", url=url)
        assert again.returncode == 0, again.stdout + again.stderr

        companies = slow.companies(owner)
        uids = Counter(c["tags"]["reconcile.uid"] for c in companies)
        assert sorted(uids.values()) == [1] * 6, uids
        for company in companies:
            active = [
                c
                for c in company.get("dataConnections") or []
                if c["sourceType"] == "Accounting" and c["status"] != "Unlinked"
            ]
            assert len(active) == 1, company
