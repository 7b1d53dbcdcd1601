"""`moved:` in the planner (pure): a retag of the company carrying the old uid, nothing created
or unlinked; fine once applied; refused when it would give two companies one uid, when the old
uid is duplicated, or when `id:` names another company."""

from __future__ import annotations

from reconcile.model import DesiredState, LiveState, Moved, Policy
from reconcile.planner import make_plan
from reconcile.plans import Kind, Plan
from reconcile.plans.file import structure_problems
from reconcile.render.plan_json import plan_to_dict
from tests.planner.test_planner import OWNER, company, conn, customer

XERO_LINKED = (conn("a", "Linked", key="gbol", name="Xero"),)


def plan_moved(customers: list[object], companies: list[object], *moves: tuple[str, str]) -> Plan:
    plan = make_plan(
        DesiredState(
            OWNER,
            tuple(customers),  # type: ignore[arg-type]
            policy=Policy(),
            moved=tuple(Moved(old, new) for old, new in moves),
        ),
        LiveState(OWNER, tuple(companies)),  # type: ignore[arg-type]
    )
    assert structure_problems(plan_to_dict(plan)) == []
    return plan


def test_a_move_retags_the_company_and_does_nothing_else() -> None:
    live = company("acme-ltd-2930", id="c1", connections=XERO_LINKED)
    wanted = customer("cus-00001", accounting="gbol")
    plan = plan_moved([wanted], [live], ("acme-ltd-2930", "cus-00001"))
    [action] = plan.actions
    assert (action.kind, action.company_id, action.uid) == (Kind.UPDATE_COMPANY, "c1", "cus-00001")
    assert action.reason.startswith("moved: retags the company reconcile.uid=acme-ltd-2930 -> ")
    assert action.request.body["tags"]["reconcile.uid"] == "cus-00001"
    assert not plan.refused
    # Without the move, the same edit creates nothing either: it is refused as a probable edit.
    control = plan_moved([wanted], [live])
    assert not control.actions and control.refused
    assert "say so with moved: [{from: acme-ltd-2930, to: cus-00001}]" in control.refused[0].reason


def test_once_applied_the_move_changes_nothing_with_or_without_it() -> None:
    live = company("cus-00001", id="c1", connections=XERO_LINKED)
    wanted = customer("cus-00001", accounting="gbol")
    for moves in ([("acme-ltd-2930", "cus-00001")], []):
        plan = plan_moved([wanted], [live], *moves)
        assert not plan.actions and not plan.refused, plan


def test_a_move_whose_old_uid_no_company_carries_plans_as_usual() -> None:
    plan = plan_moved([customer("cus-00001")], [], ("gone", "cus-00001"))
    assert [a.kind for a in plan.actions] == [Kind.CREATE_COMPANY]


def test_a_new_uid_another_company_holds_is_refused() -> None:
    old = company("old", id="c1")
    taken = company("cus-00001", id="c2")
    plan = plan_moved([customer("cus-00001")], [old, taken], ("old", "cus-00001"))
    assert not plan.actions
    [refusal] = plan.refused
    assert "moved from old not applied: company c2" in refusal.reason, refusal.reason
    assert "would give two companies one uid" in refusal.reason


def test_a_duplicated_old_uid_is_refused_with_its_twins() -> None:
    twins = [company("old", id="c1", connections=XERO_LINKED), company("old", id="c2")]
    plan = plan_moved([customer("cus-00001")], twins, ("old", "cus-00001"))
    assert not plan.actions
    [refusal] = plan.refused
    assert "moved from old not applied: duplicate" in refusal.reason
    assert "keep c1, which holds the customer's connections" in refusal.reason


def test_id_naming_another_company_than_the_move_is_refused() -> None:
    old = company("old", id="c1")
    other = company(None, id="c9", owner=None)
    plan = plan_moved([customer("cus-00001", id="c9")], [old, other], ("old", "cus-00001"))
    assert not plan.actions
    [refusal] = plan.refused
    assert "but id: names c9" in refusal.reason


def test_a_refused_move_never_offboards_the_old_company_even_with_prune() -> None:
    old = company("old", id="c1", connections=XERO_LINKED)
    taken = company("cus-00001", id="c2")
    plan = make_plan(
        DesiredState(
            OWNER,
            (customer("cus-00001"),),
            policy=Policy(prune=True),
            moved=(Moved("old", "cus-00001"),),
        ),
        LiveState(OWNER, (old, taken)),
    )
    assert not [a for a in plan.actions if a.company_id == "c1"], plan.actions
    assert [r.uid for r in plan.refused] == ["cus-00001"]
