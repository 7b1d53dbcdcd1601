"""The rules that keep a plan safe when Codat changed behind the tool (issue 7), on models."""

from __future__ import annotations

from reconcile.model import (
    OWNER_TAG,
    PROTECT_TAG,
    Company,
    Customer,
    DesiredState,
    ExpenseConfig,
    LiveState,
)
from reconcile.planner import PlanOptions, make_plan
from reconcile.planner.guard import requests_needed
from reconcile.plans import Kind, Plan
from reconcile.plans.file import structure_problems
from reconcile.render.plan_json import plan_to_dict
from tests.planner.test_planner import kinds
from tests.support.factories import OWNER, bank_accounts, company, conn, customer, expense

ACME = "Acme"


def plan_for(
    customers: list[Customer],
    companies: list[Company],
    options: PlanOptions | None = None,
    **live: object,
) -> Plan:
    plan = make_plan(
        DesiredState(OWNER, tuple(customers)),
        LiveState(OWNER, tuple(companies), **live),  # type: ignore[arg-type]
        options,
    )
    assert structure_problems(plan_to_dict(plan)) == []  # schemas/plan.schema.json
    return plan


# ------------------------------------------------------------------ identity


def test_a_company_that_lost_its_owner_tag_is_re_adopted_with_its_connections() -> None:
    lost = company(owner=None, connections=(conn("a", "Linked"),))
    plan = plan_for([customer(accounting="qhyg")], [], uid_holders={"cus-1": (lost,)})
    assert kinds(plan) == [Kind.UPDATE_COMPANY]
    (update,) = plan.actions
    assert update.company_id == "c1" and update.reason.startswith("re-adopting")
    assert update.request.body["tags"][OWNER_TAG] == OWNER
    assert "c1" in plan.observed


def test_a_company_with_the_uid_for_another_owner_is_refused() -> None:
    theirs = company(owner="other")
    plan = plan_for([customer()], [], uid_holders={"cus-1": (theirs,)})
    assert not plan.actions
    (refusal,) = plan.refused
    assert "never taken over" in refusal.reason and "c1" in refusal.reason


def test_two_untagged_holders_of_a_uid_are_a_duplicate() -> None:
    a, b = company(owner=None, id="a"), company(owner=None, id="b")
    plan = plan_for([customer()], [], uid_holders={"cus-1": (a, b)})
    assert not plan.actions and "duplicate" in plan.refused[0].reason


def test_edited_uid_tag_touches_neither_company_nor_customer() -> None:
    edited = company("cus-22", connections=(conn("a", "Linked"), expense()))
    plan = plan_for([customer("cus-0022")], [edited])
    assert not plan.actions
    (refusal,) = plan.refused
    assert "restore the tag reconcile.uid=cus-0022 on company c1" in refusal.reason
    # A different name and no shared platform: a different customer. The new one is created;
    # the one that left keeps its Linked connections and is reported.
    other = plan_for([customer("cus-0022", name="Globex")], [edited], PlanOptions())
    assert kinds(other) == [Kind.CREATE_COMPANY]
    (left,) = other.refused
    assert left.uid == "cus-22" and "left the file" in left.reason
    # Renamed too, but alike and wanting the platform the leaving company holds: held back.
    renamed = plan_for([customer("cus-0022", name="Acme Limited", accounting="qhyg")], [edited])
    assert not renamed.actions
    (held,) = renamed.refused
    assert "holds a Linked QuickBooks Online (qhyg)" in held.reason
    assert "restore the tag reconcile.uid=cus-0022 on company c1" in held.reason


def test_a_managed_company_without_uid_tag_and_the_same_name_blocks_the_create() -> None:
    plan = plan_for([customer()], [company(uid=None)])
    assert not plan.actions and "no reconcile.uid tag" in plan.refused[0].reason


# ------------------------------------------------------------------ protection


def test_protect_true_puts_the_protect_tag_on_the_company() -> None:
    plan = plan_for([customer(protect=True)], [])
    assert plan.actions[0].request.body["tags"][PROTECT_TAG] == "true"


def test_a_protected_company_whose_entry_left_the_file_is_kept_and_refused() -> None:
    kept = company(protected=True, connections=(conn("a", "Linked"),))
    plan = plan_for([customer("cus-2", name="Other")], [kept])
    assert [a for a in plan.actions if a.uid == "cus-1"] == []
    (refusal,) = [r for r in plan.refused if r.uid == "cus-1"]
    assert "is protected (reconcile.protect=true)" in refusal.reason, refusal
    assert "left the file" in refusal.reason and "Linked" in refusal.reason
    assert not any("is protected" in w for w in plan.warnings)


def test_a_lost_protect_line_keeps_the_tag_and_the_protection() -> None:
    kept = company(protected=True, connections=(conn("a", "Linked"),))
    plan = plan_for([customer(accounting="gbol")], [kept])  # platform change, protect omitted
    assert Kind.UNLINK_CONNECTION not in kinds(plan)
    assert any("reconcile.protect=true" in r.reason for r in plan.refused)
    assert Kind.UPDATE_COMPANY not in kinds(plan)  # the tag stays: nothing to update


def test_protect_false_removes_the_tag_first_and_destroys_nothing_yet() -> None:
    kept = company(protected=True, connections=(conn("a", "Linked"),))
    plan = plan_for([customer(unprotect=True, state="absent")], [kept])
    assert kinds(plan) == [Kind.UPDATE_COMPANY]
    assert PROTECT_TAG not in plan.actions[0].request.body["tags"]
    assert any("apply it, then plan again" in r.reason for r in plan.refused)
    later = plan_for(
        [customer(unprotect=True, state="absent")], [company(connections=kept.connections)]
    )
    assert kinds(later) == [Kind.UNLINK_CONNECTION]


def test_blocked_is_not_deferred() -> None:
    kept = company(connections=(conn("x", "Linked", key="gbol", name="Xero"),))
    plan = plan_for(
        [
            customer(
                accounting="qhyg",
                protect=True,
                expenses=True,
                expense_config=ExpenseConfig("89", "1", "2"),
            )
        ],
        [kept],
    )
    assert {n.subject for n in plan.notes_of("blocked")} == {
        "partner expense connection",
        "expense config",
    }
    assert not plan.notes_of("deferred")


# ------------------------------------------------------------------ guard, config, quota


def test_company_deletes_count_the_connections_they_hold() -> None:
    fleet = [
        company(
            f"cus-{i}",
            id=f"c{i}",
            name=f"N{i}",
            connections=(conn(f"a{i}", "Linked"), expense(f"e{i}")),
        )
        for i in range(6)
    ]
    customers = [customer(f"cus-{i}", name=f"N{i}", state="deleted") for i in range(6)]
    plan = plan_for(customers, fleet, PlanOptions(allow_delete=True))
    assert plan.unsafe is not None
    assert "6 customers and 12 Linked connections" in plan.unsafe
    assert "--max-destroy 12" in plan.unsafe
    allowed = plan_for(customers, fleet, PlanOptions(allow_delete=True, max_destroy=12))
    assert allowed.unsafe is None and kinds(allowed) == [Kind.DELETE_COMPANY] * 6


def test_config_ids_outside_the_mapping_options_are_refused_with_the_choices() -> None:
    linked = company(connections=(conn("a", "Linked"),))
    options = bank_accounts(("89", "Current"), ("90", "Savings"))
    plan = plan_for(
        [customer(accounting="qhyg", expense_config=ExpenseConfig("999", "1", "2"))],
        [linked],
        expense_configs={"c1": None},
        mapping_options={"c1": options},
    )
    assert not plan.actions
    assert '89 "Current", 90 "Savings"' in plan.refused[0].reason


def test_config_key_follows_the_mapping_options() -> None:
    linked = company(connections=(conn("a", "Linked"),))
    wanted = customer(accounting="qhyg", expense_config=ExpenseConfig("89", "1", "2"))

    def key(*accounts: str) -> str | None:
        options = bank_accounts(*((a, a) for a in accounts))
        plan = plan_for(
            [wanted], [linked], expense_configs={"c1": None}, mapping_options={"c1": options}
        )
        return plan.actions[0].idempotency_key

    assert key("89") != key("89", "90")


def test_removing_expense_config_changes_nothing_and_is_said_once() -> None:
    fleet = [
        company(f"cus-{i}", id=f"c{i}", name=f"N{i}", connections=(conn(f"a{i}", "Linked"),))
        for i in range(3)
    ]
    removed = PlanOptions(had_config=frozenset(f"cus-{i}" for i in range(3)))  # `plan --base`
    plan = plan_for(
        [customer(f"cus-{i}", name=f"N{i}", accounting="qhyg") for i in range(3)], fleet, removed
    )
    assert not plan.actions
    assert sum("cannot clear an expense config" in w for w in plan.warnings) == 1


def test_a_plan_that_needs_more_requests_than_remain_says_so() -> None:
    plan = plan_for(
        [customer(f"cus-{i}", name=f"N{i}", accounting="qhyg") for i in range(5)],
        [],
        rate_limit_remaining=4,
        rate_limit_limit=1000,
        rate_limit_reset="2026-11-28T00:00:00+00:00",
    )
    assert requests_needed(plan) == 10
    (warning,) = [w for w in plan.warnings if "requests" in w]
    assert "needs about 10 requests but Codat allows 4 more today of 1000" in warning
    assert "2026-11-28T00:00:00+00:00" in warning
    enough = plan_for([customer(accounting="qhyg")], [], rate_limit_remaining=1000)
    assert not [w for w in enough.warnings if "requests" in w]


def test_uid_tags_swapped_between_two_customers_touch_neither() -> None:
    """Someone swapped the uid tags of Acme and Globex: each uid now names the other's company,
    which holds the other's platform. Nothing is renamed or unlinked."""
    acme = company("cus-2", id="c1", name="Acme", connections=(conn("a", "Linked"),))
    globex = company(
        "cus-1", id="c2", name="Globex", connections=(conn("x", "Linked", "gbol", "Xero"),)
    )
    plan = plan_for(
        [customer("cus-1", accounting="qhyg"), customer("cus-2", name="Globex", accounting="gbol")],
        [acme, globex],
    )
    assert not plan.actions
    assert {r.uid for r in plan.refused} == {"cus-1", "cus-2"}
    assert all("restore the tag" in r.reason for r in plan.refused)


def test_a_chain_of_renames_in_the_file_is_no_swap() -> None:
    """cus-1 takes cus-2's old name while cus-2 takes a third one (and cus-3 takes cus-1's):
    renames in the file, not swapped tags. All are renamed in one plan, none refused."""
    companies = [
        company("cus-1", id="c1", name="Hooli"),
        company("cus-2", id="c2", name="Acme"),
        company("cus-3", id="c3", name="Initech"),
    ]
    plan = plan_for(
        [
            customer("cus-1", name="Acme"),
            customer("cus-2", name="Globex"),
            customer("cus-3", name="Hooli"),
        ],
        companies,
    )
    assert not plan.refused, plan.refused
    assert sorted((a.uid, a.kind) for a in plan.actions) == [
        ("cus-1", Kind.UPDATE_COMPANY),
        ("cus-2", Kind.UPDATE_COMPANY),
        ("cus-3", Kind.UPDATE_COMPANY),
    ]


def test_uid_tag_set_to_another_customers_uid_holds_the_create() -> None:
    real = company("cus-6", id="c6", name="Wonka", connections=(conn("a", "Linked"),))
    edited = company("cus-6", id="c5", name="Umbrella", connections=(conn("b", "Linked"),))
    plan = plan_for(
        [customer("cus-5", name="Umbrella", accounting="qhyg"), customer("cus-6", name="Wonka")],
        [real, edited],
    )
    assert not plan.actions
    reasons = {r.uid: r.reason for r in plan.refused}
    assert "restore the tag reconcile.uid=cus-5 on company c5" in reasons["cus-5"]
    assert reasons["cus-6"].startswith("duplicate: ")
    assert "2 companies carry reconcile.uid=cus-6: c5 " in reasons["cus-6"]
    assert 'c6 "Wonka"' in reasons["cus-6"]
