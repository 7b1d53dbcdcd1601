"""A pull request's plan (`plan --base`) reads the expense configs only of the customers it
changes and of those that became Linked since the last apply, and says so in one line; the plain
plan reads every one (the control). Real `reconcile` subprocesses against a served sandbox whose
request log says exactly what each plan read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile import paths
from reconcile.escape import markdown
from reconcile.sandbox.layers.requestlog import read_log
from reconcile.sandbox.store import Store
from tests.audit.fleet import Served, ok, served
from tests.conftest import AUTH_HEADERS
from tests.plans.file.saved_support import TEST_SIGNING_KEY
from tests.support.cli import codat_env, reconcile
from tests.support.sandbox_server import serve_sandbox

OWNER = "pr-configs"
FLEET = 20
CHANGED = ("cus-03", "cus-07")  # renamed; its bank account changed
LATE = "cus-20"  # authorized after the last apply: its partner expense and config are due
DRIFTED = "cus-05"  # its config changed in Codat behind the tool: the audit's and converge's
NOTE = (
    "Expense configs of {n} unchanged customers were not read (a pull request's plan reads only "
    "what it changes); config drift is reported by `audit` and restored by `converge`."
)


def entry(n: int, *, name: str | None = None, bank: str = "89") -> str:
    uid = f"cus-{n:02d}"
    return (
        f"  - uid: {uid}\n    name: {name or f'Customer {n}'}\n    accounting: xero\n"
        f'    expenses: true\n    expenseConfig: {{bankAccount: "{bank}", supplier: "124", '
        'customer: "140"}\n'
    )


def fleet_file(path: Path, *entries: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"version: 1\nowner: {OWNER}\ncustomers:\n" + "".join(entries))
    return path


@dataclass
class Fleet(Served):
    base: Path  # the default branch's file, applied
    head: Path  # the pull request's file: CHANGED differ from the base
    ids: dict[str, str]

    def plan(self, *args: str) -> tuple[Any, list[str]]:
        """The plan's result and the paths it read (GET /profile aside: whether a plan reads
        the key's account is another change's business)."""
        mark = len(read_log(self.log))
        result = self.run("plan", str(self.head), *args)
        assert result.returncode == 0, result.stdout + result.stderr
        read = [e["path"] for e in read_log(self.log)[mark:] if e["path"] != paths.profile()]
        return result, read


def authorize(db: Path, uids: set[str]) -> None:
    """The customers finish Link on their pending accounting connections."""
    store = Store(db)
    try:
        for uid in uids:
            (company,) = store.find_companies_by_tag("reconcile.uid", uid)
            for conn in company["dataConnections"]:
                if conn["sourceType"] == "Accounting" and conn["status"] == "PendingAuth":
                    store.set_connection_status(company["id"], conn["id"], "Linked")
    finally:
        store.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("pr-configs")
    base = fleet_file(directory / "main" / "customers.yaml", *(entry(n) for n in range(1, 21)))
    head = fleet_file(
        directory / "pr" / "customers.yaml",
        *(
            entry(n, name="Customer 3 Ltd" if n == 3 else None, bank="90" if n == 7 else "89")
            for n in range(1, 21)
        ),
    )
    with served(directory) as (url, db, log):
        env = codat_env(url)
        ok(reconcile("apply", str(base), "--auto-approve", env=env))
        authorize(db, {f"cus-{n:02d}" for n in range(1, 20)})
        ok(reconcile("apply", str(base), "--auto-approve", env=env))  # partner expense, config
        authorize(db, {LATE})
        with httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http:
            listed = http.get("/companies", params={"pageSize": 5000}).json()["results"]
            ids = {c["tags"]["reconcile.uid"]: c["id"] for c in listed if c.get("tags")}
            drifted = {"bankAccount": {"id": "90"}, "supplier": {"id": "124"}}
            drifted["customer"] = {"id": "140"}
            answer = http.post(paths.expense_config(ids[DRIFTED]), json=drifted)
            assert answer.status_code == 200, answer.text
        yield Fleet(url, db, log, base, head, ids)


def config_reads(read: list[str]) -> list[str]:
    return sorted(p for p in read if p.endswith("/sync/expenses/config"))


def test_a_pull_requests_plan_reads_only_the_configs_it_changes(fleet: Fleet) -> None:
    result, read = fleet.plan("--base", str(fleet.base))
    late, renamed, rebanked = fleet.ids[LATE], fleet.ids["cus-03"], fleet.ids["cus-07"]
    assert sorted(read) == sorted(
        [
            paths.companies(),  # one page of the owner's companies
            paths.expense_config(renamed),
            paths.expense_config(rebanked),
            paths.mapping_options(rebanked),  # the changed config's ids are checked
            paths.expense_config(late),  # became Linked: its config is due
            paths.mapping_options(late),
            paths.supplier(late, "124"),
            paths.customer(late, "140"),
        ]
    )
    assert NOTE.format(n=FLEET - 3) in result.stdout
    out = result.stdout
    assert "set expense config" in out and "bankAccount" in out
    # The changed config is diffed against the live one: only the bank account changes.
    block = out.split("cus-07", 1)[1].split("\n\n", 1)[0]
    assert '"89"' in block and '"90"' in block
    assert "cus-05" not in out  # its drift is not this pull request's: the audit reports it


def test_the_plain_plan_reads_every_config(fleet: Fleet) -> None:
    """The control: without --base every Linked customer's config is read, and the drift of an
    unchanged customer is in the plan."""
    result, read = fleet.plan()
    assert config_reads(read) == sorted(paths.expense_config(fleet.ids[u]) for u in fleet.ids)
    assert len(config_reads(read)) == FLEET
    assert "were not read" not in result.stdout
    assert "cus-05" in result.stdout  # the config changed behind the tool is restored


def test_the_note_in_markdown_and_json(fleet: Fleet) -> None:
    comment, _ = fleet.plan("--base", str(fleet.base), "--format", "markdown")
    assert comment.stdout.count("were not read") == 1
    assert f"\n{markdown(NOTE.format(n=FLEET - 3))}\n" in comment.stdout
    shown, _ = fleet.plan("--base", str(fleet.base), "--format", "json")
    doc = json.loads(shown.stdout)
    assert doc["not_read"] == NOTE.format(n=FLEET - 3)
    [change] = [c for c in doc["changes"] if c["uid"] == "cus-07"]
    [action] = change["actions"]
    assert action["kind"] == "set_expense_config"
    assert action["before"]["bankAccount"] != action["after"]["bankAccount"]
    plain, _ = fleet.plan("--format", "json")
    assert json.loads(plain.stdout)["not_read"] is None


def test_config_reads_stay_within_the_quota_budget(fleet: Fleet, tmp_path: Path) -> None:
    """A daily quota of 22 (another key, so nothing was spent yet): after the listing and the
    account (read together), 20 remain, less a 10% reserve (2): 18 configs of 20 are read, and one
    warning says so; the control, the same plan without a quota, read all 20 above."""
    log = tmp_path / "quota.jsonl"
    args = ("--request-log", str(log), "--daily-quota", "22")
    with serve_sandbox(fleet.db, *args) as url:
        result = reconcile("plan", str(fleet.head), env=codat_env(url, "another-key"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(config_reads([e["path"] for e in read_log(log)])) == 18
    out = " ".join(result.stdout.split())
    assert "pays for the expense config of 18 of 20 companies" in out
    assert "it is left out of this plan for the other 2" in out


def test_a_saved_pull_request_plan_keeps_the_line(fleet: Fleet, tmp_path: Path) -> None:
    """`plan --base --out` (what the CI kit runs): the signed plan carries the line, and
    `show` prints it back, offline."""
    saved = tmp_path / "plan.json"
    signing = {"RECONCILE_SIGNING_KEY": TEST_SIGNING_KEY}
    args = ("plan", str(fleet.head), "--base", str(fleet.base), "--out", str(saved))
    ok(reconcile(*args, env={**codat_env(fleet.url), **signing}))
    assert json.loads(saved.read_text())["not_read"] == NOTE.format(n=FLEET - 3)
    shown = ok(reconcile("show", str(saved), env=signing))
    assert NOTE.format(n=FLEET - 3) in shown.stdout
