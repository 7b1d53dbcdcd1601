"""Codat's `dataConnectionErrors`: put on and resolved with `reconcile sandbox connection-error`
(a real subprocess on the served sandbox's file), read back through the wire and checked against
the official specs; `--owner` picks between two owners' companies with one uid."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.registry import OWNER_TAG, UID_TAG
from reconcile.sandbox.store import Store
from tests.sandbox import conforms, linked_company
from tests.support.cli import run_sandbox
from tests.support.oas import load_spec

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def ok(*args: str) -> str:
    result = run_sandbox(*args)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def fails(*args: str, words: tuple[str, ...] = ()) -> str:
    result = run_sandbox(*args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    return result.stderr


def error_schema_errors(entry: dict[str, Any]) -> list[str]:
    validator = load_spec("platform").validator(
        "/components/schemas/Connection/definitions/dataConnectionError"
    )
    return [e.message for e in validator.iter_errors(entry)]


@pytest.fixture
def customer(codat: httpx.Client, sandbox_db: Path) -> dict[str, Any]:
    """A company with a unique uid, its Linked Xero connection and the partner expense one."""
    uid, company, connection = linked_company(
        codat, sandbox_db, name="Errors Ltd", owner="errors-team", prefix="cus", platform="gbol"
    )
    expense_path = f"/companies/{company['id']}/sync/expenses/connections/partnerExpense"
    expense = conforms(codat.post(expense_path), 200)
    return {"uid": uid, "company": company, "connection": connection, "expense": expense}


def reads(codat: httpx.Client, customer: dict[str, Any]) -> list[dict[str, Any]]:
    """The accounting connection as every read that carries it shows it (each spec-checked)."""
    cid, conn_id = customer["company"]["id"], customer["connection"]["id"]
    company = conforms(codat.get(f"/companies/{cid}"), 200)
    listed = conforms(codat.get("/companies", params={"tags": f"{UID_TAG}={customer['uid']}"}), 200)
    assert [c["id"] for c in listed["results"]] == [cid]
    connections = conforms(codat.get(f"/companies/{cid}/connections"), 200)
    one = conforms(codat.get(f"/companies/{cid}/connections/{conn_id}"), 200)
    found = [
        *[c for c in company["dataConnections"] if c["id"] == conn_id],
        *[c for c in listed["results"][0]["dataConnections"] if c["id"] == conn_id],
        *[c for c in connections["results"] if c["id"] == conn_id],
        one,
    ]
    assert len(found) == 4
    return found


def test_an_error_is_put_on_read_back_and_resolved(
    codat: httpx.Client, sandbox_db: Path, customer: dict[str, Any]
) -> None:
    db, uid = str(sandbox_db), customer["uid"]
    assert all("dataConnectionErrors" not in c for c in reads(codat, customer))

    out = ok(
        "connection-error", "--db", db, "--uid", uid, "--message", "Token expired",
        "--status-code", "401",
    )  # fmt: skip
    assert customer["connection"]["id"] in out and "Active error 401" in out
    for seen in reads(codat, customer):
        (entry,) = seen["dataConnectionErrors"]
        assert not error_schema_errors(entry)
        assert entry["statusCode"] == "401" and entry["statusText"] == "Unauthorized"
        assert entry["errorMessage"] == "Token expired" and entry["status"] == "Active"
        assert ISO_UTC.match(entry["erroredOnUtc"]) and "resolvedOnUtc" not in entry
    # The partner expense connection is untouched.
    company = conforms(codat.get(f"/companies/{customer['company']['id']}"), 200)
    expense = [c for c in company["dataConnections"] if c["sourceType"] == "Expense"]
    assert expense and "dataConnectionErrors" not in expense[0]

    ok("connection-error", "--db", db, "--uid", uid, "--message", "Rate limited by Xero")
    out = ok("connection-error", "--db", db, "--uid", uid, "--resolve")
    assert "2 errors resolved" in out
    for seen in reads(codat, customer):
        entries = seen["dataConnectionErrors"]
        assert [e["status"] for e in entries] == ["Resolved", "Resolved"]
        assert [e["errorMessage"] for e in entries] == ["Token expired", "Rate limited by Xero"]
        assert "statusCode" not in entries[1]  # none was given
        for entry in entries:
            assert not error_schema_errors(entry)
            assert ISO_UTC.match(entry["resolvedOnUtc"])
            assert entry["resolvedOnUtc"] >= entry["erroredOnUtc"]
    fails("connection-error", "--db", db, "--uid", uid, "--resolve", words=("no accounting",))


def test_resolve_only_the_named_message_and_the_expense_source(
    codat: httpx.Client, sandbox_db: Path, customer: dict[str, Any]
) -> None:
    db, uid = str(sandbox_db), customer["uid"]
    ok("connection-error", "--db", db, "--uid", uid, "--message", "first")
    ok("connection-error", "--db", db, "--uid", uid, "--message", "second")
    ok("connection-error", "--db", db, "--uid", uid, "--source", "expense", "--message", "exp")
    out = ok("connection-error", "--db", db, "--uid", uid, "--resolve", "--message", "first")
    assert "1 error resolved" in out
    (seen, *_) = reads(codat, customer)
    assert {e["errorMessage"]: e["status"] for e in seen["dataConnectionErrors"]} == {
        "first": "Resolved",
        "second": "Active",
    }
    company = conforms(codat.get(f"/companies/{customer['company']['id']}"), 200)
    (expense,) = [c for c in company["dataConnections"] if c["sourceType"] == "Expense"]
    assert [e["errorMessage"] for e in expense["dataConnectionErrors"]] == ["exp"]
    assert expense["dataConnectionErrors"][0]["status"] == "Active"


def test_bad_connection_error_command_lines_exit_1(
    sandbox_db: Path, customer: dict[str, Any], tmp_path: Path
) -> None:
    db, uid = str(sandbox_db), customer["uid"]
    fails("connection-error", "--db", db, "--uid", uid, words=("--message",))
    fails("connection-error", "--db", db, "--uid", "nobody", "--message", "x", words=("nobody",))
    fails(
        "connection-error", "--db", db, "--uid", uid, "--message", "x", "--connection", "nope",
        words=("nope",),
    )  # fmt: skip
    fails(
        "connection-error", "--db", db, "--uid", uid, "--resolve", "--status-code", "401",
        words=("--status-code",),
    )  # fmt: skip
    fails(
        "connection-error", "--db", str(tmp_path / "none.db"), "--uid", uid, "--message", "x",
        words=("no sandbox state",),
    )  # fmt: skip
    bad_code = run_sandbox("connection-error", "--db", db, "--uid", uid, "--message", "x",
                   "--status-code", "99")  # fmt: skip
    assert bad_code.returncode == 2 and "Traceback" not in bad_code.stderr


def test_a_pending_or_unlinked_connection_can_carry_an_error(
    codat: httpx.Client, sandbox_db: Path
) -> None:
    uid = f"cus-{uuid.uuid4().hex[:10]}"
    company = conforms(codat.post("/companies", json={"name": "P", "tags": {UID_TAG: uid}}), 200)
    path = f"/companies/{company['id']}/connections"
    pending = conforms(codat.post(path, json={"platformKey": "qhyg"}), 200)
    db = str(sandbox_db)
    ok("connection-error", "--db", db, "--uid", uid, "--message", "User cancelled",
       "--status-code", "403")  # fmt: skip
    seen = conforms(codat.get(f"{path}/{pending['id']}"), 200)
    assert seen["status"] == "PendingAuth"
    assert seen["dataConnectionErrors"][0]["statusText"] == "Forbidden"
    store = Store(sandbox_db)
    try:
        store.set_connection_status(company["id"], pending["id"], "Unlinked")
    finally:
        store.close()
    fails("connection-error", "--db", db, "--uid", uid, "--message", "x", words=("no Linked",))
    ok("connection-error", "--db", db, "--uid", uid, "--message", "late",
       "--connection", pending["id"])  # fmt: skip
    seen = conforms(codat.get(f"{path}/{pending['id']}"), 200)
    assert [e["errorMessage"] for e in seen["dataConnectionErrors"]] == ["User cancelled", "late"]


def test_errors_go_with_their_connection(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    try:
        company = store.create_company("Gone", None, {})
        connection = store.create_connection(company["id"], "gbol", "http://127.0.0.1:8765")
        store.add_connection_error(company["id"], connection["id"], "boom", status_code="500")
        assert store.delete_connection(company["id"], connection["id"])
        again = store.create_connection(company["id"], "gbol", "http://127.0.0.1:8765")
        assert "dataConnectionErrors" not in again
        with store.transaction() as raw:
            assert raw.execute("SELECT COUNT(*) FROM connection_errors").fetchone()[0] == 0
    finally:
        store.close()


# ---------------------------------------------------------------------- --owner


def test_owner_chooses_between_two_owners_of_one_uid(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = Store(db)
    ids = {}
    for owner in ("team-a", "team-b"):
        company = store.create_company(f"Shared {owner}", None, {OWNER_TAG: owner, UID_TAG: "c-1"})
        connection = store.create_connection(company["id"], "gbol", "http://127.0.0.1:8765")
        ids[owner] = (company["id"], connection["id"])
    store.close()

    def statuses() -> dict[str, str]:
        s = Store(db)
        try:
            return {
                owner: s.get_connection(cid, conn)["status"]  # type: ignore[index]
                for owner, (cid, conn) in ids.items()
            }
        finally:
            s.close()

    error = fails("authorize", "--db", str(db), "--uid", "c-1", words=("--owner", "team-a"))
    assert "team-b" in error and ids["team-a"][0] in error
    fails("deauthorize", "--db", str(db), "--uid", "c-1", words=("--owner",))
    fails("connection-error", "--db", str(db), "--uid", "c-1", "--message", "x", words=("--owner",))
    assert statuses() == {"team-a": "PendingAuth", "team-b": "PendingAuth"}

    assert "-> Linked" in ok("authorize", "--db", str(db), "--uid", "c-1", "--owner", "team-b")
    assert statuses() == {"team-a": "PendingAuth", "team-b": "Linked"}
    ok("deauthorize", "--db", str(db), "--uid", "c-1", "--owner", "team-b")
    assert statuses() == {"team-a": "PendingAuth", "team-b": "Deauthorized"}
    ok("connection-error", "--db", str(db), "--uid", "c-1", "--owner", "team-a", "--message", "m")
    fails("authorize", "--db", str(db), "--uid", "c-1", "--owner", "team-c", words=("team-c",))
    fails(
        "authorize", "--db", str(db), "--company", ids["team-a"][0], "--owner", "team-b",
        words=("not tagged",),
    )  # fmt: skip
    # Two companies of one owner with one uid: --owner cannot choose, --company can.
    store = Store(db)
    twin = store.create_company("Twin", None, {OWNER_TAG: "team-a", UID_TAG: "c-1"})
    store.close()
    error = fails("authorize", "--db", str(db), "--uid", "c-1", "--owner", "team-a")
    assert "--company" in error and twin["id"] in error
