"""A messy real fleet (issue 15), end to end on a served sandbox with real `reconcile`
subprocesses: connections the file cannot name, adoption, entries dropped from the file, uid
tags edited onto another customer's identity, the absolute destroy guard, and plans that say
what happened. Every messy fleet is made through the sandbox's API (and its Store for what only
a customer can do: authorize, deauthorize)."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.sandbox.store import Store
from tests.runs.test_drift import OWNER, World, linked_fleet, world

__all__ = ["world"]  # the fixture, shared with tests/runs/test_drift.py
pytestmark = pytest.mark.slow


def set_status(w: World, company_id: str, connection_id: str, status: str) -> None:
    """What a customer does in their accounting platform (authorize, revoke)."""
    store = Store(w.db)
    try:
        store.set_connection_status(company_id, connection_id, status)
    finally:
        store.close()


def connect(w: World, company_id: str, key: str, status: str = "Linked") -> str:
    """A connection made outside the tool (another product, the portal) on platform `key`."""
    response = w.http.post(f"/companies/{company_id}/connections", json={"platformKey": key})
    assert response.status_code == 200, response.text
    conn_id: str = response.json()["id"]
    if status != "PendingAuth":
        set_status(w, company_id, conn_id, status)
    return conn_id


def untagged_company(w: World, name: str) -> str:
    response = w.http.post("/companies", json={"name": name})
    assert response.status_code == 200, response.text
    company_id: str = response.json()["id"]
    return company_id


def write_with(w: World, header: str, fleet: list[dict[str, Any]]) -> None:
    """The file with extra top-level lines (`policy: ...`) after the owner."""
    w.write(fleet)
    text = w.file.read_text().replace(f"owner: {OWNER}\n", f"owner: {OWNER}\n{header}\n", 1)
    w.file.write_text(text)


def status_of(w: World, company_id: str, connection_id: str) -> str:
    conn = w.http.get(f"/companies/{company_id}/connections/{connection_id}").json()
    status: str = conn["status"]
    return status


def actions(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["kind"], a["subject"]) for c in doc["changes"] for a in c["actions"]]


# ---------------------------------------------------------------------- 1. what the file can name


def test_a_platform_the_file_cannot_name_is_never_unlinked(world: World) -> None:
    """An adopted company with a Linked Sage 50 (hbql): neither the adoption nor any later plan
    unlinks it; `accounting: {keep: true}` then converges with it in place."""
    cid = untagged_company(world, "Umbrella Books")
    sage = connect(world, cid, "hbql")
    entry = {"uid": "cus-0005", "name": "Umbrella Books", "id": cid, "expenses": True}
    world.write([{**entry, "accounting": "quickbooks-online"}])

    for _ in range(2):  # the adoption's plan, then the first plan of a managed company
        plan = world.plan()
        assert plan.returncode == 2, plan
        assert "- unlink" not in plan.stdout and "- delete" not in plan.stdout, plan.stdout
        assert "Sage 50 (UK)" in plan.stdout and "never unlinks" in plan.stdout, plan.stdout
        assert world.apply().returncode in (0, 1)
        assert status_of(world, cid, sage) == "Linked"
    assert world.company("cus-0005")["tags"]["reconcile.owner"] == OWNER

    world.write([{**entry, "accounting": {"keep": True}}])
    assert world.apply().returncode == 0
    assert world.statuses("cus-0005") == [
        ("Accounting", "Sage 50 (UK)", "Linked"),
        ("Expense", "Partner Expense", "Linked"),
    ]
    plan = world.plan()
    assert plan.returncode == 0, plan
    assert "left as they are" in plan.stderr + plan.stdout  # reported, never touched


def test_an_adoption_plan_unlinks_nothing_and_says_what_waits(world: World) -> None:
    cid = untagged_company(world, "Initech")
    xero = connect(world, cid, "gbol")
    world.write([{"uid": "cus-0003", "name": "Initech", "id": cid, "accounting": "freeagent"}])

    adoption = world.plan_json()
    assert all(
        kind not in ("unlink_connection", "delete_connection") for kind, _ in actions(adoption)
    )
    (refusal,) = [
        r for r in adoption["refused"] if r["subject"] == "accounting connection Xero (gbol)"
    ]
    assert "first plan of an adoption: nothing is unlinked or deleted" in refusal["reason"]
    world.apply()
    assert status_of(world, cid, xero) == "Linked"

    later = world.plan_json()  # the explicit change, now that the company is managed
    assert ("unlink_connection", "accounting connection Xero (gbol)") in actions(later)


# ---------------------------------------------------------------------- 2. explicit offboarding


def test_an_entry_dropped_from_the_file_is_reported_not_offboarded(world: World) -> None:
    fleet = linked_fleet(world, 3)
    world.write([fleet[0], fleet[2]])  # a bad merge drops cus-0002

    plan = world.plan()
    assert plan.returncode == 2, plan  # a difference for --detailed-exitcode
    assert "- unlink" not in plan.stdout, plan.stdout
    assert (
        "cus-0002 left the file: to offboard, write `state: absent` for it; that unlinks "
        "Linked accounting connection QuickBooks Online (qhyg), Linked partner expense"
    ) in plan.stdout
    world.apply()
    assert ("Accounting", "QuickBooks Online", "Linked") in world.statuses("cus-0002")

    world.write([fleet[0], {**fleet[1], "state": "absent"}, fleet[2]])  # explicit
    assert world.apply().returncode == 0
    assert world.statuses("cus-0002") == [
        ("Accounting", "QuickBooks Online", "Unlinked"),
        ("Expense", "Partner Expense", "Unlinked"),
    ]


def test_a_dropped_pending_entry_is_cleaned_and_prune_restores_offboarding(world: World) -> None:
    fleet = linked_fleet(world, 2)
    pending = {"uid": "cus-0009", "name": "Pending Co", "accounting": "xero"}
    world.write([*fleet, pending])
    assert world.apply().returncode == 0  # its Xero awaits the customer

    world.write(fleet)  # the pending one leaves: deleting its link cuts no one off
    doc = world.plan_json()
    assert actions(doc) == [("delete_connection", "accounting connection Xero (gbol)")]

    write_with(world, "policy: {prune: true}", fleet[:1])
    pruned = world.plan_json()
    kinds = sorted(kind for kind, _ in actions(pruned))
    assert kinds == ["delete_connection", "unlink_connection", "unlink_connection"], pruned
    assert not pruned["refused"]


# ---------------------------------------------------------------------- 3. identity


@pytest.mark.parametrize("rename", [None, "Umbrella Books Ltd"])
def test_a_uid_tag_set_to_another_customers_uid_creates_nothing(
    world: World, rename: str | None
) -> None:
    """The tag on Umbrella (cus-0005) is set to cus-0006, with or without a portal rename."""
    linked_fleet(world, 6)
    umbrella = world.company("cus-0005")
    body = {
        "name": rename or umbrella["name"],
        "tags": {**umbrella["tags"], "reconcile.uid": "cus-0006"},
    }
    assert world.http.put(f"/companies/{umbrella['id']}", json=body).status_code == 200

    plan = world.plan()
    assert plan.returncode == 2, plan
    assert "will be created" not in plan.stdout and "- unlink" not in plan.stdout, plan.stdout
    assert f"restore the tag reconcile.uid=cus-0005 on company {umbrella['id']}" in plan.stdout
    # The duplicate of cus-0006 shows each twin with its creation date and connections.
    assert plan.stdout.count("(created 20") >= 2, plan.stdout
    assert "Linked accounting connection QuickBooks Online (qhyg)" in plan.stdout
    world.apply()
    assert len(world.companies()) == 6

    body = {"name": umbrella["name"], "tags": umbrella["tags"]}  # restored, as told
    assert world.http.put(f"/companies/{umbrella['id']}", json=body).status_code == 200
    assert world.plan().returncode == 0


@pytest.mark.parametrize("where", ["portal", "file"])
def test_a_uid_edit_with_a_rename_creates_and_unlinks_nothing(world: World, where: str) -> None:
    fleet = linked_fleet(world, 3)
    globex = world.company("cus-0002")
    if where == "portal":
        body = {"name": "Globex Limited", "tags": {**globex["tags"], "reconcile.uid": "cus-0099"}}
        assert world.http.put(f"/companies/{globex['id']}", json=body).status_code == 200
    else:
        world.write([fleet[0], {**fleet[1], "uid": "cus-0099", "name": "Globex Limited"}, fleet[2]])

    plan = world.plan()
    assert plan.returncode == 2, plan
    assert "will be created" not in plan.stdout and "- unlink" not in plan.stdout, plan.stdout
    assert f"on company {globex['id']}" in plan.stdout and "edited uid tag" in plan.stdout
    world.apply()
    assert len(world.companies()) == 3
    assert ("Accounting", "QuickBooks Online", "Linked") in [
        (c["sourceType"], c["platformName"], c["status"])
        for c in world.http.get(f"/companies/{globex['id']}").json()["dataConnections"]
    ]

    if where == "portal":  # restore the tag and the name, as told
        body = {"name": globex["name"], "tags": globex["tags"]}
        assert world.http.put(f"/companies/{globex['id']}", json=body).status_code == 200
    else:
        world.write(fleet)
    assert world.plan().returncode == 0


def test_a_case_only_uid_change_is_noticed(world: World) -> None:
    """In the portal, the tag becomes CUS-0002 and the company is renamed in the same edit."""
    linked_fleet(world, 2)
    globex = world.company("cus-0002")
    body = {"name": "Globex Trading", "tags": {**globex["tags"], "reconcile.uid": "CUS-0002"}}
    assert world.http.put(f"/companies/{globex['id']}", json=body).status_code == 200
    plan = world.plan()
    assert plan.returncode == 2 and "will be created" not in plan.stdout, plan
    assert "- unlink" not in plan.stdout, plan.stdout
    assert "differs from this customer's only in case" in plan.stdout, plan.stdout
    assert f"restore the tag reconcile.uid=cus-0002 on company {globex['id']}" in plan.stdout
    world.apply()
    assert len(world.companies()) == 2
    body = {"name": globex["name"], "tags": globex["tags"]}
    assert world.http.put(f"/companies/{globex['id']}", json=body).status_code == 200
    assert world.plan().returncode == 0


# ---------------------------------------------------------------------- 4. the absolute guard


def test_more_than_ten_linked_unlinks_need_max_destroy_at_any_fleet_size(world: World) -> None:
    fleet = linked_fleet(world, 24)  # 48 active connections: 11 unlinks are under 25%
    moved = [{**c, "accounting": "xero"} if i < 11 else c for i, c in enumerate(fleet)]
    world.write(moved)
    plan = world.plan()
    assert plan.returncode == 1, plan
    assert "more than 10 Linked-connection unlinks or company deletes (11)" in plan.stderr
    assert "cus-0001, cus-0002" in plan.stderr and "and 1 more (11 in all)" in plan.stderr
    assert "--max-destroy 11" in plan.stderr
    assert world.plan("--max-destroy", "11").returncode == 2


# ---------------------------------------------------------------------- 7. say what happened


def test_drift_is_said_as_what_happened(world: World) -> None:
    linked_fleet(world, 2)
    sawayn = world.company("cus-0001")
    accounting = next(c for c in sawayn["dataConnections"] if c["sourceType"] == "Accounting")
    unlinked = world.http.patch(
        f"/companies/{sawayn['id']}/connections/{accounting['id']}", json={"status": "Unlinked"}
    )
    assert unlinked.status_code == 200, unlinked.text  # the customer disconnected
    globex = world.company("cus-0002")
    partner = next(c for c in globex["dataConnections"] if c["sourceType"] == "Expense")
    world.http.patch(
        f"/companies/{globex['id']}/connections/{partner['id']}", json={"status": "Unlinked"}
    ).raise_for_status()
    world.edit_tags(globex, {**globex["tags"], "crm": "SF-123"})

    plan = world.plan().stdout
    assert "was disconnected (Unlinked;" in plan, plan
    assert "though the partner expense connection is still Linked" in plan
    assert "re-created: the partner expense connection" in plan
    assert "- tag crm=SF-123" in plan


def test_reauthorization_date_is_when_codat_reported_the_error(world: World) -> None:
    linked_fleet(world, 1)
    sawayn = world.company("cus-0001")
    conn = next(c for c in sawayn["dataConnections"] if c["sourceType"] == "Accounting")
    set_status(world, sawayn["id"], conn["id"], "Deauthorized")
    store = Store(world.db)
    try:
        store.add_connection_error(
            sawayn["id"], conn["id"], "token revoked", errored_on="2026-01-05T09:00:00Z"
        )
    finally:
        store.close()
    doc = world.plan_json()
    (note,) = doc["needs_reauthorization"]
    assert note["since"] == "2026-01-05T09:00:00Z" and "reported the error" in note["text"]
    assert "since 2026-01-05" in world.plan().stdout
