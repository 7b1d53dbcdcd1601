"""The reconciliation truth table (docs/design.md §5), one rule per test, on hand-built models."""

from __future__ import annotations

import pytest

from reconcile.model import (
    OWNER_TAG,
    UID_TAG,
    Company,
    Customer,
    DesiredState,
    ExpenseConfig,
    LiveState,
    MappingOptions,
    Policy,
)
from reconcile.planner import PlanOptions, make_plan
from reconcile.plans import Kind, Plan
from reconcile.plans.file import structure_problems
from reconcile.render.plan_json import plan_to_dict
from tests.support.factories import CONFIG, OWNER, bank_accounts, company, conn, customer, expense


def plan_for(
    customers: list[Customer],
    companies: list[Company],
    options: PlanOptions | None = None,
    configs: dict[str, ExpenseConfig | None] | None = None,
    mapping: dict[str, MappingOptions] | None = None,
    policy: Policy | None = None,
    refresh_due: dict[str, str] | None = None,
) -> Plan:
    configs = configs or {}
    if mapping is None:  # every company whose config is read offers bank account 89
        mapping = {cid: BANK_89 for cid in configs}
    plan = make_plan(
        DesiredState(OWNER, tuple(customers), policy=policy or Policy()),
        LiveState(
            OWNER,
            tuple(companies),
            configs,
            mapping_options=mapping,
            refresh_due=refresh_due or {},
        ),
        options,
    )
    assert structure_problems(plan_to_dict(plan)) == []  # schemas/plan.schema.json
    return plan


BANK_89 = bank_accounts(("89", "Business Current Account"))


def kinds(plan: Plan) -> list[Kind]:
    return [a.kind for a in plan.actions]


# ------------------------------------------------------------------ companies


def test_new_customer_creates_company_with_ownership_tags_then_connection() -> None:
    plan = plan_for([customer(accounting="qhyg", expenses=True, tags={"region": "uk"})], [])
    assert kinds(plan) == [Kind.CREATE_COMPANY, Kind.CREATE_CONNECTION]
    create = plan.actions[0]
    assert create.request.body == {
        "name": "Acme",
        "tags": {"region": "uk", OWNER_TAG: OWNER, UID_TAG: "cus-1"},
    }
    assert plan.actions[1].request.path == "/companies/{companyId}/connections"
    assert [n.subject for n in plan.notes_of("deferred")] == ["partner expense connection"]
    assert plan.summary() == {"create": 2, "update": 0, "unlink": 0, "delete": 0}


def test_matching_company_means_no_changes() -> None:
    plan = plan_for([customer(accounting="qhyg")], [company(connections=(conn("a", "Linked"),))])
    assert not plan.has_changes


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Acme Ltd"), ("description", "Pilot"), ("tags", {"region": "uk"})],
)
def test_company_difference_updates_with_full_tag_map(field: str, value: object) -> None:
    plan = plan_for([customer(**{field: value})], [company()])
    assert kinds(plan) == [Kind.UPDATE_COMPANY]
    body = plan.actions[0].request.body
    assert plan.actions[0].request.method == "PUT"
    assert body["tags"][OWNER_TAG] == OWNER and body["tags"][UID_TAG] == "cus-1"


def test_adoption_by_id_adds_ownership_tags() -> None:
    untagged = company(uid=None, owner=None, id="c9")
    plan = plan_for([customer(id="c9")], [untagged])
    assert kinds(plan) == [Kind.UPDATE_COMPANY]
    assert plan.actions[0].reason.startswith("adopting")


def test_company_of_another_owner_is_never_taken_over() -> None:
    theirs = company(uid=None, owner="someone-else", id="c9")
    plan = plan_for([customer(id="c9")], [theirs])
    assert not plan.actions
    assert "never taken over" in plan.refused[0].reason


def test_duplicate_uid_is_reported_and_customer_untouched() -> None:
    plan = plan_for([customer(name="New name")], [company(id="c1"), company(id="c2")])
    assert not plan.actions
    reason = plan.refused[0].reason
    assert 'carry reconcile.uid=cus-1: c1 "Acme"' in reason and 'c2 "Acme"' in reason, reason
    assert "no twin holds a connection: keep one (the oldest is c1)" in reason, reason


def test_the_twin_holding_the_connections_is_named_first_and_id_settles_it() -> None:
    """Not the lowest id: the twin with the customer's connections; `id:` it and the customer
    is planned against that twin, the other left alone with a warning."""
    twins = [company(id="c1"), company(id="c2", connections=(conn("a", "Linked"),))]
    reason = plan_for([customer()], twins).refused[0].reason
    assert reason.index('c2 "Acme"') < reason.index('c1 "Acme"'), reason
    assert "keep c2, which holds the customer's connections: delete c1" in reason, reason
    settled = plan_for([customer(id="c2", accounting="qhyg")], twins)
    assert not settled.refused and not settled.actions, settled
    assert any("c1 also carries reconcile.uid=cus-1" in w for w in settled.warnings)


# ------------------------------------------------------------------ accounting


def test_pending_auth_is_awaiting_not_a_change() -> None:
    plan = plan_for(
        [customer(accounting="qhyg")], [company(connections=(conn("a", "PendingAuth"),))]
    )
    assert not plan.has_changes
    (note,) = plan.notes_of("awaiting_authorization")
    assert note.link_url == "https://link.example/a"


def test_only_deauthorized_needs_reauthorization() -> None:
    plan = plan_for(
        [customer(accounting="qhyg")], [company(connections=(conn("a", "Deauthorized"),))]
    )
    assert not plan.has_changes
    assert len(plan.notes_of("needs_reauthorization")) == 1


def test_unlinked_connection_is_not_usable() -> None:
    plan = plan_for([customer(accounting="qhyg")], [company(connections=(conn("a", "Unlinked"),))])
    assert kinds(plan) == [Kind.CREATE_CONNECTION]
    assert plan.actions[0].request.path == "/companies/c1/connections"


def test_platform_change_unlinks_linked_other_before_creating() -> None:
    xero = conn("x", "Linked", key="gbol", name="Xero")
    plan = plan_for([customer(accounting="knfz")], [company(connections=(xero,))])
    assert kinds(plan) == [Kind.UNLINK_CONNECTION, Kind.CREATE_CONNECTION]
    assert plan.actions[0].request.body == {"status": "Unlinked"}
    assert "Sage Intacct" in plan.actions[0].reason


def test_platform_change_deletes_pending_other() -> None:
    xero = conn("x", "PendingAuth", key="gbol", name="Xero")
    plan = plan_for([customer(accounting="knfz")], [company(connections=(xero,))])
    assert kinds(plan) == [Kind.DELETE_CONNECTION, Kind.CREATE_CONNECTION]
    assert plan.actions[0].request.method == "DELETE"


def test_platform_matched_by_name_when_integration_key_missing() -> None:
    qbo = conn("a", "Linked", key=None, name="QuickBooks Online")
    plan = plan_for([customer(accounting="qhyg")], [company(connections=(qbo,))])
    assert not plan.has_changes


# ------------------------------------------------------------------ partner expense


def test_expense_connection_created_once_accounting_linked() -> None:
    plan = plan_for(
        [customer(accounting="qhyg", expenses=True)], [company(connections=(conn("a", "Linked"),))]
    )
    assert kinds(plan) == [Kind.CREATE_PARTNER_EXPENSE]
    assert plan.actions[0].request.path.endswith("/sync/expenses/connections/partnerExpense")


def test_expense_connection_deferred_while_pending() -> None:
    plan = plan_for(
        [customer(accounting="qhyg", expenses=True)],
        [company(connections=(conn("a", "PendingAuth"),))],
    )
    assert not plan.has_changes
    assert len(plan.notes_of("deferred")) == 1


def test_expense_connection_without_accounting_is_created_at_once() -> None:
    plan = plan_for([customer(expenses=True)], [company()])
    assert kinds(plan) == [Kind.CREATE_PARTNER_EXPENSE]


def test_expenses_false_unlinks_linked_expense_connection() -> None:
    plan = plan_for(
        [customer(accounting="qhyg", expenses=False)],
        [company(connections=(conn("a", "Linked"), expense()))],
    )
    assert kinds(plan) == [Kind.UNLINK_CONNECTION]
    assert plan.actions[0].subject == "partner expense connection"


# ------------------------------------------------------------------ expense config


def test_config_set_when_linked_and_different() -> None:
    live = company(connections=(conn("a", "Linked"),))
    plan = plan_for(
        [customer(accounting="qhyg", expense_config=CONFIG)], [live], configs={"c1": None}
    )
    assert kinds(plan) == [Kind.SET_EXPENSE_CONFIG]
    assert plan.actions[0].request.body == CONFIG.to_wire()
    same = plan_for(
        [customer(accounting="qhyg", expense_config=CONFIG)], [live], configs={"c1": CONFIG}
    )
    assert not same.has_changes


def test_config_deferred_until_linked() -> None:
    plan = plan_for(
        [customer(accounting="qhyg", expense_config=CONFIG)],
        [company(connections=(conn("a", "PendingAuth"),))],
    )
    assert not plan.has_changes
    assert [n.subject for n in plan.notes_of("deferred")] == ["expense config"]


# ------------------------------------------------------------------ offboarding


def plan_after_cus_1_left(policy: Policy | None = None) -> Plan:
    """cus-1 (a Linked QuickBooks Online, a PendingAuth Xero and the partner expense) left the
    file, which names cus-2 only."""
    live = company(
        connections=(
            conn("a", "Linked"),
            conn("b", "PendingAuth", key="gbol", name="Xero"),
            expense(),
        )
    )
    return plan_for([customer(uid="cus-2", name="Other Co")], [live], policy=policy)


def test_company_left_the_file_keeps_what_is_linked_and_is_reported() -> None:
    plan = plan_after_cus_1_left()
    offboard = next(c for c in plan.changes if c.uid == "cus-1")
    assert [a.kind for a in offboard.actions] == [Kind.DELETE_CONNECTION]  # cuts no one off
    (report,) = plan.refused
    assert report.uid == "cus-1" and report.reason.startswith(
        "cus-1 left the file: to offboard, write `state: absent` for it; that unlinks Linked "
        "accounting connection QuickBooks Online (qhyg), Linked partner expense connection"
    )


def test_policy_prune_offboards_a_company_that_left_the_file() -> None:
    plan = plan_after_cus_1_left(Policy(prune=True))
    assert not plan.refused
    offboard = next(c for c in plan.changes if c.uid == "cus-1")
    assert offboard.verdict == "offboard"
    assert [a.kind for a in offboard.actions] == [
        Kind.UNLINK_CONNECTION,
        Kind.DELETE_CONNECTION,
        Kind.UNLINK_CONNECTION,
    ]


def test_state_absent_offboards() -> None:
    live = company(connections=(conn("a", "Linked"),))
    plan = plan_for([customer(state="absent", accounting="qhyg")], [live])
    assert kinds(plan) == [Kind.UNLINK_CONNECTION]


def test_state_deleted_needs_allow_delete() -> None:
    plan = plan_for([customer(state="deleted")], [company()])
    assert not plan.actions and "--allow-delete" in plan.refused[0].reason
    allowed = plan_for([customer(state="deleted")], [company()], PlanOptions(allow_delete=True))
    assert kinds(allowed) == [Kind.DELETE_COMPANY]


def test_protect_refuses_destructive_actions() -> None:
    xero = conn("x", "Linked", key="gbol", name="Xero")
    plan = plan_for([customer(accounting="knfz", protect=True)], [company(connections=(xero,))])
    assert kinds(plan) == [Kind.UPDATE_COMPANY]  # adds the reconcile.protect tag, nothing else
    unlink, create = plan.refused
    assert "protect" in unlink.reason and unlink.subject == "accounting connection Xero (gbol)"
    assert "one active accounting connection" in create.reason


def test_other_owners_and_untagged_companies_are_ignored() -> None:
    others = [company(uid="cus-9", owner="other", id="o1"), company(uid=None, owner=None, id="u1")]
    plan = plan_for([customer()], [company(), *others])
    assert not plan.actions


# ------------------------------------------------------------------ safety


def test_mass_destroy_is_refused_unless_allowed() -> None:
    live = [
        company(uid=f"cus-{i}", id=f"c{i}", connections=(conn(f"a{i}", "Linked"),))
        for i in range(12)
    ]
    prune = Policy(prune=True)
    refused = plan_for([customer(uid="cus-new", name="New Co")], live, policy=prune)
    assert refused.unsafe is not None and "--max-destroy 12" in refused.unsafe
    assert "12 customers and 12 Linked connections" in refused.unsafe
    ok = plan_for(
        [customer(uid="cus-new", name="New Co")], live, PlanOptions(max_destroy=12), policy=prune
    )
    assert ok.summary()["unlink"] == 12


def test_empty_file_with_live_companies_is_refused() -> None:
    refused = plan_for([], [company()])
    assert refused.unsafe is not None and "--allow-empty" in refused.unsafe
    assert plan_for([], [company()], PlanOptions(allow_empty=True)).summary()["unlink"] == 0


def test_target_limits_plan() -> None:
    plan = plan_for(
        [customer(), customer(uid="cus-2", name="B")], [], PlanOptions(targets=frozenset({"cus-2"}))
    )
    assert {a.uid for a in plan.actions} == {"cus-2"}


def test_idempotency_keys_are_stable_and_distinct() -> None:
    a = plan_for([customer(accounting="qhyg")], [])
    b = plan_for([customer(accounting="qhyg")], [])
    keys = [x.idempotency_key for x in a.actions]
    assert keys == [x.idempotency_key for x in b.actions]
    assert len(set(keys)) == len(keys)


def test_plan_json_has_versioned_document_with_checksum() -> None:
    doc = plan_to_dict(plan_for([customer(accounting="qhyg")], []))
    assert doc["format_version"] == "1"
    assert doc["checksum"].startswith("sha256:")
    assert doc["changes"][0]["actions"][0]["request"]["method"] == "POST"


def test_every_planned_request_conforms_to_codat_specs() -> None:
    from tests.support.oas import request_errors

    xero = conn("x", "Linked", key="gbol", name="Xero")
    pending = conn("p", "PendingAuth", key="akxx", name="Oracle NetSuite")
    linked = conn("a", "Linked")
    customers = [
        customer("new", accounting="qhyg", tags={"region": "uk"}, description="d", name="New"),
        customer("move", accounting="knfz", name="Renamed"),
        customer("cfg", accounting="qhyg", expenses=True, expense_config=CONFIG),
        customer("gone", state="deleted"),
    ]
    live = [
        company("move", id="c-move", connections=(xero, pending)),
        company("cfg", id="c-cfg", connections=(linked,)),
        company("gone", id="c-gone"),
        company("left", id="c-left", connections=(expense(),)),
    ]
    plan = plan_for(
        customers,
        live,
        PlanOptions(allow_delete=True),
        configs={"c-cfg": None},
        refresh_due={"c-cfg": "at risk: no successful sync since 2026-10-01"},
    )
    assert set(kinds(plan)) == set(Kind)
    for action in plan.actions:
        r = action.request.resolved("8a210b68-6988-11ed-a1eb-0242ac120002")
        spec = "expenses" if "/sync/expenses/" in r.path else "platform"
        assert request_errors(r.method, r.path, r.body, spec=spec) == [], action


def test_duplicates_that_left_the_file_are_not_offboarded() -> None:
    twins = [
        company("gone", id="d1", connections=(conn("a", "Linked"),)),
        company("gone", id="d2", connections=(conn("b", "Linked"),)),
    ]
    plan = plan_for([customer()], [company(), *twins])
    assert not plan.actions
    (refusal,) = plan.refused
    assert "gone: d1 " in refusal.reason and refusal.uid == "gone"
    assert "more than one twin holds connections" in refusal.reason, refusal.reason
    assert "add customer gone back with `id: d1`" in refusal.reason, refusal.reason


@pytest.mark.parametrize("state", ["absent", "deleted"])
def test_absent_or_deleted_never_touch_an_unadopted_company(state: str) -> None:
    untagged = company(uid=None, owner=None, id="u1", connections=(conn("a", "Linked"),))
    plan = plan_for([customer(id="u1", state=state)], [untagged], PlanOptions(allow_delete=True))
    assert not plan.actions
    assert "adopt it first" in plan.refused[0].reason


def test_create_company_key_follows_the_body() -> None:
    a = plan_for([customer(name="Acme")], []).actions[0].idempotency_key
    b = plan_for([customer(name="Acme Ltd")], []).actions[0].idempotency_key
    assert a != b


def test_unreadable_config_is_left_out_with_the_warning() -> None:
    live = LiveState(
        OWNER,
        (company(connections=(conn("a", "Linked"),)),),
        expense_configs={},
        warnings=("could not read the expense config of company c1 (...)",),
    )
    plan = make_plan(
        DesiredState(OWNER, (customer(accounting="qhyg", expense_config=CONFIG),)), live
    )
    assert not plan.has_changes
    assert plan.warnings == live.warnings
