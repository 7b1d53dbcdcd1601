"""Codat changes under the tool (issue 7's five events), end to end: a served sandbox, real
`reconcile` subprocesses, and a person editing companies the way Codat's portal would.

Each event used to end in a production incident: a customer cut off their accounting system, or
a duplicate company.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.store import Store
from tests.conftest import AUTH_HEADERS
from tests.support.cli import clean_env, codat_env, reconcile, reconcile_argv
from tests.support.sandbox_server import serve_sandbox

OWNER = "drift"
UID = "reconcile.uid"
pytestmark = pytest.mark.slow


class World:
    """One private served sandbox, the operator's file, and the portal."""

    def __init__(self, tmp: Path, url: str, db: Path) -> None:
        self.tmp = tmp
        self.url = url
        self.db = db
        self.file = tmp / "customers.yaml"
        self.http = httpx.Client(base_url=url, headers=AUTH_HEADERS, timeout=30)

    # ---------------------------------------------------------------- the operator

    def write(self, customers: list[dict[str, Any]]) -> None:
        lines = ["version: 1", f"owner: {OWNER}", "customers:"]
        for c in customers:
            lines.append(f"  - uid: {c['uid']}")
            for key, value in c.items():
                if key == "uid":
                    continue
                lines.append(f"    {key}: {json.dumps(value)}")
        self.file.write_text("\n".join(lines) + "\n")

    def env(self) -> dict[str, str]:
        return clean_env(codat_env(self.url))

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return reconcile(*args, env=codat_env(self.url), stdin=stdin, timeout=180)

    def apply(self, *flags: str) -> subprocess.CompletedProcess[str]:
        result = self.run("apply", str(self.file), "--auto-approve", *flags)
        assert "Traceback" not in result.stderr + result.stdout, result
        return result

    def plan(self, *flags: str) -> subprocess.CompletedProcess[str]:
        result = self.run("plan", str(self.file), "--detailed-exitcode", *flags)
        assert "Traceback" not in result.stderr + result.stdout, result
        return result

    def plan_json(self, *flags: str) -> dict[str, Any]:
        result = self.run("plan", str(self.file), "--format", "json", *flags)
        assert result.returncode in (0, 1), result
        doc: dict[str, Any] = json.loads(result.stdout)
        return doc

    # ---------------------------------------------------------------- Codat, as people see it

    def companies(self) -> list[dict[str, Any]]:
        body = self.http.get("/companies", params={"pageSize": 5000}).json()
        results: list[dict[str, Any]] = body["results"]
        return results

    def company(self, uid: str) -> dict[str, Any]:
        (found,) = [
            c for c in self.companies() if (c.get("tags") or {}).get("reconcile.uid") == uid
        ]
        return found

    def edit_tags(self, company: dict[str, Any], tags: dict[str, str]) -> None:
        """Someone edits the company in Codat's portal."""
        body = {
            "name": company["name"],
            "description": company.get("description") or "",
            "tags": tags,
        }
        response = self.http.put(f"/companies/{company['id']}", json=body)
        assert response.status_code == 200, response.text

    def authorize(self, uid: str) -> None:
        """The customer finishes Link on every pending accounting connection."""
        company = self.company(uid)
        store = Store(self.db)
        try:
            for conn in company["dataConnections"]:
                if conn["sourceType"] == "Accounting" and conn["status"] == "PendingAuth":
                    store.set_connection_status(company["id"], conn["id"], "Linked")
        finally:
            store.close()

    def statuses(self, uid: str) -> list[tuple[str, str, str]]:
        return sorted(
            (c["sourceType"], c["platformName"], c["status"])
            for c in self.company(uid)["dataConnections"]
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    db = tmp_path / "sandbox.db"
    with serve_sandbox(db, "--daily-quota", "10000000") as url:
        w = World(tmp_path, url, db)
        try:
            yield w
        finally:
            w.http.close()


def customers(n: int, **extra: Any) -> list[dict[str, Any]]:
    names = ["Sawayn Group", "Globex Ltd", "Initech", "Hooli", "Umbrella", "Wonka", "Acme"]
    return [
        {
            "uid": f"cus-{i:04d}",
            "name": names[i - 1] if i <= len(names) else f"Customer {i}",
            "accounting": "quickbooks-online",
            "expenses": True,
            **extra,
        }
        for i in range(1, n + 1)
    ]


def linked_fleet(world: World, n: int, **extra: Any) -> list[dict[str, Any]]:
    """n customers, each with accounting and partner expense Linked."""
    fleet = customers(n, **extra)
    world.write(fleet)
    assert world.apply().returncode == 0
    for c in fleet:
        world.authorize(c["uid"])
    assert world.apply().returncode == 0
    assert world.plan().returncode == 0
    return fleet


# ---------------------------------------------------------------------- event 1


def test_edited_uid_tag_touches_neither_and_says_which_tag_to_restore(world: World) -> None:
    linked_fleet(world, 3)
    edited = world.company("cus-0002")
    world.edit_tags(edited, {**edited["tags"], "reconcile.uid": "cus-22"})

    plan = world.plan()
    assert plan.returncode == 2, plan  # a refusal is a difference
    assert "unlink" not in plan.stdout and "will be created" not in plan.stdout, plan.stdout
    assert "No changes. Codat matches the file." not in plan.stdout
    assert f"restore the tag reconcile.uid=cus-0002 on company {edited['id']}" in plan.stdout

    world.apply()
    assert len(world.companies()) == 3  # no duplicate
    assert world.statuses("cus-22") == [
        ("Accounting", "QuickBooks Online", "Linked"),
        ("Expense", "Partner Expense", "Linked"),
    ]
    world.edit_tags(edited, edited["tags"])  # the person restores the tag, as told
    assert world.plan().returncode == 0


def test_removed_owner_tag_is_re_adopted_not_duplicated(world: World) -> None:
    linked_fleet(world, 3)
    edited = world.company("cus-0002")
    world.edit_tags(edited, {k: v for k, v in edited["tags"].items() if k != "reconcile.owner"})

    doc = world.plan_json()
    (change,) = doc["changes"]
    (action,) = change["actions"]
    assert action["kind"] == "update_company" and action["company_id"] == edited["id"]
    assert action["reason"].startswith("re-adopting")
    assert action["request"]["body"]["tags"]["reconcile.owner"] == OWNER

    assert world.apply().returncode == 0
    assert len(world.companies()) == 3
    assert world.company("cus-0002")["tags"]["reconcile.owner"] == OWNER
    assert world.plan().returncode == 0


def test_uid_held_by_another_owner_is_refused(world: World) -> None:
    world.write(customers(1))
    world.http.post(
        "/companies",
        json={"name": "Theirs", "tags": {"reconcile.owner": "other", "reconcile.uid": "cus-0001"}},
    ).raise_for_status()
    plan = world.plan()
    assert plan.returncode == 2 and "never taken over" in plan.stdout, plan
    world.apply()
    assert len(world.companies()) == 1


# ---------------------------------------------------------------------- event 2


def test_protection_survives_the_entry_leaving_the_file(world: World) -> None:
    fleet = linked_fleet(world, 3, protect=True)
    assert world.company("cus-0003")["tags"]["reconcile.protect"] == "true"

    world.write(fleet[:2])  # a bad merge drops cus-0003
    plan = world.plan()
    assert "- unlink" not in plan.stdout, plan.stdout
    assert "is protected" in plan.stdout
    world.apply()
    assert ("Accounting", "QuickBooks Online", "Linked") in world.statuses("cus-0003")

    # Unprotecting takes two applies: first the tag goes, then the offboarding may happen.
    world.write([*fleet[:2], {**fleet[2], "protect": False, "state": "absent"}])
    first = world.plan_json()
    (change,) = first["changes"]
    assert [a["kind"] for a in change["actions"]] == ["update_company"]
    assert "reconcile.protect" not in change["actions"][0]["request"]["body"]["tags"]
    assert first["refused"], first
    assert world.apply().returncode == 0
    second = world.plan_json()
    assert {a["kind"] for c in second["changes"] for a in c["actions"]} == {"unlink_connection"}


# ---------------------------------------------------------------------- event 3


def test_customer_authorizes_while_apply_waits_at_its_prompt(world: World) -> None:
    world.write([{"uid": "cus-0001", "name": "Sawayn Group", "accounting": "xero"}])
    assert world.apply().returncode == 0
    world.write([{"uid": "cus-0001", "name": "Sawayn Group", "accounting": "quickbooks-online"}])

    process = subprocess.Popen(
        reconcile_argv("apply", str(world.file)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=world.env(),
    )
    assert process.stdout is not None and process.stdin is not None
    seen = ""
    deadline = time.monotonic() + 60
    while "Plan:" not in seen and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
    assert "delete accounting connection Xero (gbol), PendingAuth" in seen, seen
    world.authorize("cus-0001")  # the customer clicks Authorize while the operator reads
    out, err = process.communicate("yes\n", timeout=120)
    assert process.returncode == 1, (seen, out, err)
    assert "Traceback" not in out + err
    # A Linked connection is never deleted, and nothing else of that customer ran.
    assert world.statuses("cus-0001") == [("Accounting", "Xero", "Linked")]
    assert "Linked" in out + err


# ---------------------------------------------------------------------- event 4


def test_guard_counts_the_connections_a_company_delete_takes(world: World) -> None:
    fleet = linked_fleet(world, 12)
    world.write([{**c, "state": "deleted"} for c in fleet])
    plan = world.plan("--allow-delete")
    assert plan.returncode == 1, plan
    assert "12 customers and 24 Linked connections" in plan.stderr, plan.stderr
    assert "--max-destroy 24" in plan.stderr
    refused = world.plan_json("--allow-delete")
    assert refused["unsafe"] and "24" in refused["unsafe"]
    assert len(world.companies()) == 12


# ---------------------------------------------------------------------- event 5


def test_two_applies_at_once_both_succeed_and_converge(world: World) -> None:
    world.write(customers(8))
    runs = [
        subprocess.Popen(
            reconcile_argv("apply", str(world.file), "--auto-approve"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=world.env(),
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=180), *p.communicate()) for p in runs]
    for code, out, err in results:
        assert code == 0, (out, err)
    companies = world.companies()
    assert len(companies) == 8
    for company in companies:
        active = [
            c
            for c in company["dataConnections"]
            if c["sourceType"] == "Accounting" and c["status"] in ("Linked", "PendingAuth")
        ]
        assert len(active) == 1, company
    assert world.plan().returncode == 0
