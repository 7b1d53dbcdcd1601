"""Issue 15's rules on hand-built models: what the file can name, adoption, keep, the absolute
guard. (End to end on the served sandbox: tests/runs/test_drift_messy.py.)"""

from __future__ import annotations

from reconcile.model import Customer, Policy
from reconcile.planner import PlanOptions
from reconcile.plans import Kind
from tests.planner.test_planner import kinds, plan_for
from tests.support.factories import company, conn, customer, expense

SAGE = conn("s", "Linked", key="hbql", name="Sage 50 (UK)")
BANK = conn("k", "Linked", key="plad", name="Plaid", source="Banking")


def test_connections_the_file_cannot_name_are_never_offboarded() -> None:
    live = company(connections=(SAGE, BANK, conn("p", "PendingAuth")))
    for state in ("absent", "gone"):
        customers = [customer(state="absent")] if state == "absent" else []
        plan = plan_for(customers, [live], PlanOptions(allow_empty=True), policy=Policy(True))
        assert [(a.kind, a.connection_id) for a in plan.actions] == [
            (Kind.DELETE_CONNECTION, "p")
        ], state
        assert "Sage 50 (UK)" in plan.warnings[-1] and "Plaid" in plan.warnings[-1]


def test_no_accounting_wanted_leaves_another_platform_alone() -> None:
    plan = plan_for([customer(expenses=True)], [company(connections=(SAGE,))])
    assert kinds(plan) == [Kind.CREATE_PARTNER_EXPENSE]
    assert not plan.refused


def test_a_company_holding_another_platform_is_not_deleted() -> None:
    plan = plan_for(
        [customer(state="deleted")], [company(connections=(SAGE,))], PlanOptions(allow_delete=True)
    )
    assert not plan.actions
    assert "Sage 50 (UK)" in plan.refused[0].reason


def test_an_adoption_plan_unlinks_and_deletes_nothing() -> None:
    live = company(
        uid=None, owner=None, connections=(conn("x", "Linked", "gbol", "Xero"), expense())
    )
    adopt = Customer(uid="cus-1", name="Acme", id="c1", accounting="qhyg", expenses=False)
    plan = plan_for([adopt], [live])
    assert kinds(plan) == [Kind.UPDATE_COMPANY]
    assert all("first plan of an adoption" in r.reason for r in plan.refused[:2])
    managed = company(connections=live.connections)  # once the adoption is applied
    later = plan_for([adopt], [managed])
    assert Kind.UNLINK_CONNECTION in kinds(later)


def test_keep_leaves_the_accounting_connection_and_follows_it() -> None:
    keep = customer(keep_accounting=True, expenses=True)
    for live in (SAGE, conn("a", "Linked"), conn("x", "Linked", "gbol", "Xero")):
        plan = plan_for([keep], [company(connections=(live,))])
        assert kinds(plan) == [Kind.CREATE_PARTNER_EXPENSE], live
        assert not plan.refused
    pending = plan_for([keep], [company(connections=(conn("a", "PendingAuth"),))])
    assert not pending.actions
    (note,) = pending.notes_of("deferred")
    assert "kept accounting connection QuickBooks Online (qhyg)" in note.text


def test_absolute_guard_holds_whatever_the_fleet_size() -> None:
    live = [
        company(f"cus-{i:03}", id=f"c{i}", connections=(conn(f"a{i}", "Linked"), expense(f"e{i}")))
        for i in range(60)
    ]  # 120 active connections: 11 unlinks are 9%
    wanted = [
        customer(f"cus-{i:03}", accounting="gbol" if i < 11 else "qhyg", expenses=True)
        for i in range(60)
    ]
    plan = plan_for(wanted, live)
    assert plan.unsafe is not None
    assert "more than 10 Linked-connection unlinks or company deletes (11)" in plan.unsafe
    assert "cus-000, cus-001" in plan.unsafe and "and 1 more (11 in all)" in plan.unsafe
    assert plan_for(wanted, live, PlanOptions(max_destroy=11)).unsafe is None
    ten = [
        customer(f"cus-{i:03}", accounting="gbol" if i < 10 else "qhyg", expenses=True)
        for i in range(60)
    ]
    assert plan_for(ten, live).unsafe is None


def test_relative_guard_still_holds_small_fleets() -> None:
    live = [
        company(f"cus-{i}", id=f"c{i}", connections=(conn(f"p{i}", "PendingAuth"),))
        for i in range(12)
    ]  # 12 pending deletes: no Linked unlink, but all of a small fleet
    plan = plan_for([customer(f"cus-{i}", accounting="gbol") for i in range(12)], live)
    assert plan.unsafe is not None and "25% of the owner's 12 active connections" in plan.unsafe
