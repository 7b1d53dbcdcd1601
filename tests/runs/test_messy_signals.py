"""Say what is true, and the dangerous thing first (issue 25, cases 1, 3, 4, 5, 7, 9 and 10),
end to end: a messy fleet (`sandbox seed --messy`) adopted with `export --adopt` and applied,
served on loopback, then drift made the way people make it (a company deleted in the portal,
an authorized connection deleted) and files edited the way pull requests edit them. Every run
is a real `reconcile` subprocess; the base file is what the default branch holds."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.store import Store
from tests.audit.fleet import ok, post_company, served
from tests.conftest import AUTH_HEADERS, TEST_API_KEY
from tests.support.cli import reconcile
from tests.support.sandbox_server import sandbox_command

OWNER = "ops"
CUT_OFF = "deleted outside the tool: the customer must authorize again"
pytestmark = pytest.mark.slow


@dataclass
class Messy:
    """The served fleet, the base file (the default branch), and the customers each case uses."""

    url: str
    db: Path
    tmp: Path
    base: Path
    text: str
    uids: dict[str, str] = field(default_factory=dict)  # role -> uid
    ids: dict[str, str] = field(default_factory=dict)  # role -> company id

    def env(self) -> dict[str, str]:
        return {"CODAT_BASE_URL": self.url, "CODAT_API_KEY": TEST_API_KEY}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = reconcile(*args, env=self.env())
        assert "Traceback" not in result.stderr + result.stdout, result.stderr
        return result

    def head(self, name: str, text: str) -> Path:
        """A pull request's version of the file."""
        path = self.tmp / name
        path.write_text(text)
        return path

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--format", "json").stdout)


def entries(text: str) -> list[str]:
    """The file split at each customer entry (the first part is the header)."""
    parts = text.split("\n  - uid: ")
    return [parts[0], *("  - uid: " + p for p in parts[1:])]


def without(text: str, *uids: str) -> str:
    """The file with the entries of `uids` (and the comment lines before each) dropped."""
    kept = []
    for part in entries(text):
        first = part.split("\n", 1)[0]
        if any(first == f"  - uid: {uid}" for uid in uids):
            continue
        kept.append(part)
    return "\n".join(kept)


def with_line(text: str, uid: str, line: str) -> str:
    """The entry of `uid` with one more line (`protect: true`, `state: absent`)."""
    marker = f"\n  - uid: {uid}\n"
    assert marker in text, uid
    return text.replace(marker, f"{marker}    {line}\n", 1)


def _linked(company: dict[str, Any]) -> bool:
    conns = company["dataConnections"]
    accounting = [c for c in conns if c["sourceType"] == "Accounting"]
    return (
        len(accounting) == 1
        and accounting[0]["status"] == "Linked"
        and any(c["sourceType"] == "Expense" and c["status"] == "Linked" for c in conns)
        and len(conns) == 2
    )


def _pending(company: dict[str, Any]) -> bool:
    conns = company["dataConnections"]
    return len(conns) == 1 and conns[0]["status"] == "PendingAuth"


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Messy]:
    tmp = tmp_path_factory.mktemp("messy-signals")
    db = tmp / "sandbox.db"
    seeded = subprocess.run(
        sandbox_command("seed", "--db", str(db), "--companies", "100", "--owner", OWNER, "--messy"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    with (
        served(tmp) as (url, db, _log),
        httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http,
    ):
        env = {"CODAT_BASE_URL": url, "CODAT_API_KEY": TEST_API_KEY}
        adopted = tmp / "adopted.yaml"
        ok(reconcile("export", "--owner", OWNER, "--adopt", "--out", str(adopted), env=env))
        ok(reconcile("apply", str(adopted), "--auto-approve", env=env))
        companies = http.get("/companies", params={"pageSize": 5000}).json()["results"]
        in_file = adopted.read_text()
        mine = [
            c
            for c in companies
            if c["tags"].get("reconcile.owner") == OWNER
            and f"\n  - uid: {c['tags'].get('reconcile.uid')}\n" in in_file
        ]
        linked = [c for c in mine if _linked(c)]
        pending = [c for c in mine if _pending(c)]
        assert len(linked) >= 16 and pending, (len(linked), len(pending))
        m = Messy(url, db, tmp, tmp / "base.yaml", "")
        roles = {"deleted": linked[0], "cut": linked[1], "protected": linked[2]}
        roles |= {"dropped": linked[3], "pending": pending[0]}
        for role, company in roles.items():
            m.uids[role] = company["tags"]["reconcile.uid"]
            m.ids[role] = company["id"]
        m.uids["guarded"] = ",".join(c["tags"]["reconcile.uid"] for c in linked[4:16])
        # The default branch protects one customer, and that is applied.
        text = with_line(in_file, m.uids["protected"], "protect: true")
        m.base.write_text(text)
        ok(reconcile("apply", str(m.base), "--auto-approve", env=env))
        m.text = text
        # Drift, the way people make it: a company deleted in the portal, an authorized
        # accounting connection deleted; two companies tagged for this owner that no file lists.
        assert http.delete(f"/companies/{m.ids['deleted']}").status_code == 204
        (accounting,) = [
            c for c in roles["cut"]["dataConnections"] if c["sourceType"] == "Accounting"
        ]
        gone = http.delete(f"/companies/{m.ids['cut']}/connections/{accounting['id']}")
        assert gone.status_code == 200, gone.text
        tags = {"reconcile.owner": OWNER}
        m.ids["orphan-empty"] = post_company(
            http, "Left Empty", {**tags, "reconcile.uid": "orphan-empty"}
        )
        m.ids["orphan-linked"] = post_company(
            http, "Left Linked", {**tags, "reconcile.uid": "orphan-linked"}
        )
        made = http.post(
            f"/companies/{m.ids['orphan-linked']}/connections", json={"platformKey": "gbol"}
        )
        store = Store(db)
        try:
            store.set_connection_status(m.ids["orphan-linked"], made.json()["id"], "Linked")
        finally:
            store.close()
        yield m


# ---------------------------------------------------------------------- case 1


def test_a_dropped_protected_entry_is_reported_as_any_entry_that_left_the_file(
    messy: Messy,
) -> None:
    uid, cid = messy.uids["protected"], messy.ids["protected"]
    head = messy.head("dropped-protected.yaml", without(messy.text, uid))
    plan = messy.run("plan", str(head), "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout
    said = f"{uid} left the file, but company {cid} is protected (reconcile.protect=true)"
    assert said in plan.stdout
    assert "No changes. Codat matches the file." not in plan.stdout
    # Under --base it blocks the pull request, and the comment names it as new.
    review = messy.run("plan", str(head), "--base", str(messy.base), "--format", "markdown")
    assert review.returncode == 1, review.stdout + review.stderr
    new = [line for line in review.stdout.splitlines() if "new: blocks" in line]
    assert any(uid.replace("-", "\\-") in line and "protected" in line for line in new), new
    # The control: the base itself (nothing dropped) blocks nothing.
    same = messy.run("plan", str(messy.base), "--base", str(messy.base), "--format", "markdown")
    assert same.returncode == 0, same.stderr
    assert "left the file, but" not in same.stdout


# ---------------------------------------------------------------------- case 3


def test_what_an_orphan_finding_says_the_plan_does_is_what_it_does(messy: Messy) -> None:
    """Derived from the same data: each orphan the audit names is one the plan neither acts on
    nor refuses, and the words say so; an orphan the plan refuses is that refusal, said once."""
    audit = messy.json("audit", str(messy.base))
    plan = messy.json("plan", str(messy.base))
    acted = {a["company_id"] for c in plan["changes"] for a in c["actions"]}
    refused = {r["uid"]: r["reason"] for r in plan["refused"]}
    orphans = [f for f in audit["findings"] if f["kind"] == "orphans"]
    assert {f["uid"] for f in orphans} == {"orphan-empty"}
    for finding in orphans:
        assert finding["company_id"] not in acted and finding["uid"] not in refused
        assert "plan changes nothing of it (it holds no active connection)" in finding["detail"]
    assert "offboards" not in json.dumps(audit)
    (linked,) = [f for f in audit["findings"] if f["uid"] == "orphan-linked"]
    assert linked["kind"] == "refused" and linked["facts"]["reason"] == refused["orphan-linked"]
    assert "left the file" in refused["orphan-linked"]


# ---------------------------------------------------------------------- case 4


def test_drift_that_cut_a_customer_off_is_named_in_plan_and_audit(messy: Messy) -> None:
    deleted, cut = messy.uids["deleted"], messy.uids["cut"]
    plan = messy.run("plan", str(messy.base), "--base", str(messy.base))
    out = plan.stdout
    title = "Cut off outside the tool: the customer must authorize again (2):"
    assert title in out, out[:2000]
    assert out.index(title) < out.index("  # ")  # before any customer's block
    header = next(line for line in out.splitlines() if line.startswith(f"  # {deleted} "))
    assert header.endswith(f"will be created: {CUT_OFF}"), header
    assert f"its company was {CUT_OFF}" in out
    cut_header = next(line for line in out.splitlines() if line.startswith(f"  # {cut} "))
    assert cut_header.endswith(CUT_OFF) and f"connection was {CUT_OFF}" in out
    # The control: without the base files the tool cannot know the company existed; the
    # connection is still known to be cut off (its partner expense connection remains).
    alone = messy.run("plan", str(messy.base)).stdout
    header = next(line for line in alone.splitlines() if line.startswith(f"  # {deleted} "))
    assert header.endswith("will be created"), header
    assert "(1):" in next(line for line in alone.splitlines() if "Cut off outside" in line)
    # The audit: for a person, not for review; the company's deletion needs the files as last
    # applied (--base), the connection's does not.
    audit = messy.json("audit", str(messy.base), "--base", str(messy.base))
    found = [f for f in audit["findings"] if f["kind"] == "cut_off"]
    assert {f["uid"] for f in found} == {deleted, cut} and all(f["who"] == "person" for f in found)
    assert sum(CUT_OFF in f["detail"] for f in found) == 2  # the create that restores each
    waiting = {f["uid"] for f in audit["findings"] if f["kind"] == "changes"}
    assert deleted not in waiting and cut not in waiting
    alone_audit = messy.json("audit", str(messy.base))
    assert {f["uid"] for f in alone_audit["findings"] if f["kind"] == "cut_off"} == {cut}
    assert deleted in {f["uid"] for f in alone_audit["findings"] if f["kind"] == "changes"}


# ---------------------------------------------------------------------- cases 5 and 7


def test_the_dangerous_thing_comes_first_in_text_and_in_the_pull_request(messy: Messy) -> None:
    pending, dropped = messy.uids["pending"], messy.uids["dropped"]
    head = messy.head("dropped.yaml", without(messy.text, pending, dropped))
    text = messy.run("plan", str(head), "--detailed-exitcode")
    assert text.returncode == 2
    lines = text.stdout.splitlines()
    assert lines[0] == "Destructive (1): read these first", lines[:3]
    assert lines[1].startswith(f"  - {pending} ")
    assert "the Link URL sent to the customer stops working" in lines[1]
    review = messy.run("plan", str(head), "--base", str(messy.base), "--format", "markdown").stdout
    destructive = review.index(":boom: Destructive (1)")
    assert destructive < review.index(":no_entry: Refused")
    section = review[destructive : review.index("\n#### ", destructive + 1)]
    assert pending.replace("-", "\\-") in section and "Link URL sent to the customer" in section
    refused = review[review.index(":no_entry: Refused") :].split("\n#### ")[0]
    items = [line for line in refused.splitlines() if line.startswith("- ")]
    assert items[0].startswith("- **new: blocks this pull request**"), items
    assert dropped.replace("-", "\\-") in items[0]
    assert all(not line.startswith("- **new") for line in items[1:]), items


# ---------------------------------------------------------------------- case 9


def test_a_plan_over_the_guard_prints_the_whole_plan_then_the_refusal(messy: Messy) -> None:
    text = messy.text
    for uid in messy.uids["guarded"].split(","):
        text = with_line(text, uid, "state: absent")
    head = messy.head("guarded.yaml", text)
    plan = messy.run("plan", str(head))
    assert plan.returncode == 1
    assert plan.stdout.startswith("Destructive (24): read these first"), plan.stdout[:300]
    assert "Plan: " in plan.stdout and "24 to unlink" in plan.stdout
    last = plan.stdout.splitlines()[-1]
    assert last.startswith("Refused as a whole, nothing of it applies: the plan would destroy 24")
    assert "more than 10 Linked-connection unlinks or company deletes (24)" in last
    assert plan.stderr.splitlines()[-1].startswith("Error: plan refused: the plan would destroy")
    # The control: allowed, the same plan is a plan.
    assert messy.run("plan", str(head), "--max-destroy", "24").returncode == 0


# ---------------------------------------------------------------------- case 10


def test_the_audit_condenses_the_awaiting_list_and_can_show_only_what_is_new(
    messy: Messy,
) -> None:
    report = messy.tmp / "earlier.json"
    first = messy.run("audit", str(messy.base), "--json-out", str(report))
    awaiting = first.stdout.split("Awaiting customer authorization (")[1]
    count = int(awaiting.split(")")[0])
    assert count > 5
    block = awaiting.split("\n\n")[0].splitlines()
    assert block[1].startswith("  by age: ") and "the oldest 5" in block[1]
    assert f"... and {count - 5} more findings not shown" in block[-1]
    verbose = messy.run("audit", str(messy.base), "--verbose").stdout
    listed = verbose.split("Awaiting customer authorization (")[1].split("\n\n")[0]
    assert "by age" not in listed and listed.count("\n  ") == count * 3
    # --only-new with --since: one finding the earlier report did not have is all there is.
    doc = json.loads(report.read_text())
    gone = next(f for f in doc["findings"] if f["kind"] == "connection_errors")
    doc["findings"] = [f for f in doc["findings"] if f["key"] != gone["key"]]
    report.write_text(json.dumps(doc))
    only = messy.json("audit", str(messy.base), "--since", str(report), "--only-new")
    assert [(f["uid"], f["kind"]) for f in only["findings"]] == [(gone["uid"], gone["kind"])]
    every = messy.json("audit", str(messy.base), "--since", str(report))
    assert len(every["findings"]) == len(doc["findings"]) + 1  # the control
    lone = messy.run("audit", str(messy.base), "--only-new")
    assert lone.returncode == 1 and "--only-new needs --since" in lone.stderr


def test_the_config_warning_is_said_only_when_a_config_was_removed(messy: Messy) -> None:
    plain = messy.run("plan", str(messy.base), "--base", str(messy.base)).stdout
    assert "expenseConfig" not in plain  # nothing was removed: nothing to say
    parts = entries(messy.text)
    at = next(i for i, part in enumerate(parts) if "\n    expenseConfig:\n" in part)
    uid = parts[at].split("\n", 1)[0].removeprefix("  - uid: ")
    lines = parts[at].split("\n")
    start = lines.index("    expenseConfig:")
    end = start + 1
    while end < len(lines) and lines[end].startswith("      "):
        end += 1
    parts[at] = "\n".join(lines[:start] + lines[end:])
    head = messy.head("no-config.yaml", "\n".join(parts))
    said = messy.run("plan", str(head), "--base", str(messy.base)).stdout
    assert (
        f"1 customer(s) had an expenseConfig in the base files and have none now (e.g. {uid})"
        in said
    )
