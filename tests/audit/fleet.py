"""A served sandbox (with a request log) holding one example of every audit finding, built
through the API (`reconcile apply`, plain POSTs) and the sandbox's customer simulation."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from reconcile.sandbox.store import Store
from tests.conftest import AUTH_HEADERS
from tests.support.cli import codat_env, reconcile
from tests.support.sandbox_server import serve_sandbox

OWNER = "audit-team"

INITIAL = """\
version: 1
owner: audit-team
customers:
  - uid: ok-1
    name: "Acme & Sons"
    accounting: xero
    expenses: true
  - uid: pending-1
    name: Pending Co
    accounting: quickbooks-online
  - uid: deauth-1
    name: Gone Away Ltd
    accounting: xero
  - uid: err-1
    name: "O'Broken Books 42"
    accounting: netsuite
  - uid: dup-1
    name: Twin Corp
  - uid: change-1
    name: Renamed Ltd
  - uid: ready-1
    name: Ready Books
    accounting: xero
    expenses: true
  - uid: guard-1
    name: Guarded Ltd
    accounting: xero
    protect: true
  - uid: cut-1
    name: Cut Off Ltd
    accounting: xero
    expenses: true
"""

# The file the audits read: change-1 renamed, guard-1 (protected) moved to another platform,
# two customers more (one new, one naming a company of another owner with id:).
FINAL_EXTRA = """\
  - uid: new-1
    name: New Customer
  - uid: foreign-1
    name: Other Team Co
    id: {foreign_id}
"""


@dataclass
class Served:
    """A sandbox `served` (its URL, SQLite file and request log), and `reconcile` against it."""

    url: str
    db: Path
    log: Path

    def env(self) -> dict[str, str]:
        return codat_env(self.url)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`reconcile ARGS` against the sandbox, whatever its exit code, never a traceback."""
        result = reconcile(*args, env=self.env())
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def sandbox(self, *args: str) -> str:
        """`reconcile sandbox COMMAND --db DB ARGS` (`args[0]`: the command), succeeding: its
        output."""
        return str(ok(reconcile("sandbox", args[0], "--db", str(self.db), *args[1:])).stdout)


@dataclass
class Fleet(Served):
    file: Path
    ids: dict[str, str] = field(default_factory=dict)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def post_company(http: httpx.Client, name: str, tags: dict[str, str]) -> str:
    answer = http.post("/companies", json={"name": name, "tags": tags})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


@contextmanager
def served(directory: Path, *args: str) -> Iterator[tuple[str, Path, Path]]:
    db, log = directory / "sandbox.db", directory / "requests.jsonl"
    with serve_sandbox(db, "--request-log", str(log), "--daily-quota", "10000000", *args) as url:
        yield url, db, log


def delete_accounting(http: httpx.Client, uid: str) -> str:
    """Delete the accounting connection of the company tagged `uid` (as the portal would);
    returns the company's id."""
    companies = http.get("/companies", params={"pageSize": 5000}).json()
    (company,) = [c for c in companies["results"] if c["tags"].get("reconcile.uid") == uid]
    (conn,) = [c for c in company["dataConnections"] if c["sourceType"] == "Accounting"]
    answer = http.delete(f"/companies/{company['id']}/connections/{conn['id']}")
    assert answer.status_code == 200, answer.text
    return str(company["id"])


def backdate_pending_connections(db: Path, uid: str, age: timedelta) -> None:
    """The PendingAuth connections of the company tagged `uid` were created `age` ago."""
    created = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    store = Store(db)
    try:
        (company,) = store.find_companies_by_tag("reconcile.uid", uid)
        with store.transaction() as sql:
            changed = sql.execute(
                "UPDATE connections SET created = ? WHERE company_id = ? AND status = ?",
                (created, company["id"], "PendingAuth"),
            ).rowcount
        assert changed, f"{uid} has no pending connection"
    finally:
        store.close()


def build_fleet(directory: Path, url: str, db: Path, log: Path) -> Fleet:
    fleet = Fleet(url, db, log, directory / "customers.yaml")
    initial = directory / "initial.yaml"
    initial.write_text(INITIAL)
    env = fleet.env()
    ok(reconcile("apply", str(initial), "--auto-approve", env=env))
    for uid in ("ok-1", "deauth-1", "err-1", "guard-1", "cut-1"):
        ok(reconcile("sandbox", "authorize", "--db", str(db), "--uid", uid))
    ok(
        reconcile("apply", str(initial), "--auto-approve", env=env)
    )  # ok-1's, cut-1's partner expense
    # pending-1's customer was sent their Link two hours ago (stale under --stale-after 1h):
    # dated in the sandbox's file rather than waited for.
    backdate_pending_connections(db, "pending-1", timedelta(hours=2))
    # Authorized after the apply: its partner expense connection is a ready follow-up.
    ok(reconcile("sandbox", "authorize", "--db", str(db), "--uid", "ready-1"))
    ok(reconcile("sandbox", "deauthorize", "--db", str(db), "--uid", "deauth-1"))
    ok(
        reconcile(
            "sandbox",
            "connection-error",
            "--db",
            str(db),
            "--uid",
            "err-1",
            "--status-code",
            "401",
            "--message",
            "Token expired <b>now</b>",
        )
    )
    with httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30) as http:
        ids = fleet.ids
        ids["dup-1 twin"] = post_company(
            http, "Twin Corp", {"reconcile.owner": OWNER, "reconcile.uid": "dup-1"}
        )
        ids["orphan-1"] = post_company(
            http, "Left Behind", {"reconcile.owner": OWNER, "reconcile.uid": "orphan-1"}
        )
        ids["no-uid"] = post_company(http, "No Uid Inc", {"reconcile.owner": OWNER})
        ids["lookalike pending-1"] = post_company(http, "pending co", {})
        ids["lookalike new-1"] = post_company(http, "NEW CUSTOMER", {"region": "uk"})
        ids["foreign"] = post_company(
            http, "Other Team Co", {"reconcile.owner": "other-team", "reconcile.uid": "x-1"}
        )
        ids["unrelated"] = post_company(http, "Unrelated Ltd", {})
        # Someone deletes cut-1's Linked Xero connection in the portal: the customer is cut off.
        ids["cut-1"] = delete_accounting(http, "cut-1")
    final = INITIAL.replace("name: Renamed Ltd", "name: Renamed Limited")
    # A protected customer moving platform: the unlink is refused.
    final = final.replace(
        "name: Guarded Ltd\n    accounting: xero", "name: Guarded Ltd\n    accounting: qbo"
    )
    fleet.file.write_text(final + FINAL_EXTRA.format(foreign_id=ids["foreign"]))
    return fleet
