"""Drift that cut a customer off (issue 25, case 4), on models: a company or an authorized
accounting connection gone behind the tool is named as such, from what the tool can know
without state of its own; a new customer, a platform change or a company mid-apply is not."""

from __future__ import annotations

from reconcile.model import ExpenseConfig
from reconcile.planner import PlanOptions
from reconcile.plans import CUT_OFF, Action, Kind, Plan
from tests.planner.test_planner import conn, expense
from tests.planner.test_planner_drift import company, customer, plan_for

QBO = {"accounting": "qhyg", "expenses": True}


def creates(plan: Plan) -> list[Action]:
    return [a for a in plan.actions if a.kind in (Kind.CREATE_COMPANY, Kind.CREATE_CONNECTION)]


def test_a_company_the_base_files_list_and_codat_lacks_was_deleted_outside_the_tool() -> None:
    plan = plan_for([customer(**QBO)], [], PlanOptions(existed=frozenset({"cus-1"})))
    (create, *_) = creates(plan)
    assert create.kind is Kind.CREATE_COMPANY and create.cuts_off_customer
    assert f"its company was {CUT_OFF}" in create.reason
    # The control: a customer new in this change is a plain create.
    fresh = plan_for([customer(**QBO)], [], PlanOptions())
    assert not any(a.cuts_off_customer for a in fresh.actions)
    assert creates(fresh)[0].reason == "no company carries reconcile.uid=cus-1"


def test_a_deleted_linked_connection_leaves_the_partner_expense_connection_behind() -> None:
    cut = company(connections=(expense(),))
    plan = plan_for([customer(**QBO)], [cut])
    (create,) = creates(plan)
    assert create.kind is Kind.CREATE_CONNECTION and create.cuts_off_customer
    assert CUT_OFF in create.reason and "Linked partner expense connection" in create.reason


def test_a_config_left_behind_says_so_too() -> None:
    cut = company()
    config = ExpenseConfig(bank_account="89", supplier="s1", customer="k1")
    plan = plan_for([customer(accounting="qhyg")], [cut], expense_configs={"c1": config})
    (create,) = creates(plan)
    assert create.cuts_off_customer and "it still has an expense config" in create.reason


def test_an_unlinked_connection_means_the_customer_must_authorize_again() -> None:
    cut = company(connections=(conn("a", "Unlinked"), expense()))
    (create,) = creates(plan_for([customer(**QBO)], [cut]))
    assert create.cuts_off_customer and "disconnected (Unlinked" in create.reason


def test_an_empty_company_or_a_platform_change_is_not_a_cut_off() -> None:
    empty = plan_for([customer(**QBO)], [company()])  # made by an apply that stopped early
    assert creates(empty) and not any(a.cuts_off_customer for a in empty.actions)
    moving = company(connections=(conn("x", "Linked", key="gbol", name="Xero"), expense()))
    change = plan_for([customer(**QBO)], [moving])
    assert Kind.UNLINK_CONNECTION in [a.kind for a in change.actions]
    assert not any(a.cuts_off_customer for a in change.actions)


def test_the_config_warning_is_said_once_and_only_when_a_config_was_removed() -> None:
    linked = [
        company(f"cus-{i}", id=f"c{i}", connections=(conn(f"a{i}", "Linked"),)) for i in (1, 2)
    ]
    wanted = [customer(f"cus-{i}", accounting="qhyg") for i in (1, 2)]
    # No base, or a base without expenseConfig: nothing was removed, nothing to say.
    assert not any("expenseConfig" in w for w in plan_for(wanted, linked).warnings)
    removed = plan_for(wanted, linked, PlanOptions(had_config=frozenset({"cus-1", "cus-2"})))
    (said,) = [w for w in removed.warnings if "expenseConfig" in w]
    assert said.startswith("2 customer(s) had an expenseConfig in the base files")
