"""A company without an owner tag that still carries a matched customer's uid is a twin of that
customer's company (reconcile.planner.identity, twins): found by the convergence property."""

from __future__ import annotations

from reconcile.plans import Kind
from tests.planner.test_planner import kinds
from tests.planner.test_planner_drift import plan_for
from tests.support.factories import company, customer

# Customers u0 and u1, both "Acme". Applied as P (u0) and Q (u1); then in the portal P's uid
# tag became u1 (a copied tag) and Q lost its owner tag. The owner's listing holds only P.
P = company("u1", id="p", name="Acme")
Q = company("u1", id="q", name="Acme", owner=None)
FILE = [customer("u0", name="Acme"), customer("u1", name="Acme")]


def test_an_untagged_holder_of_a_matched_uid_holds_the_same_named_create() -> None:
    # What the read gives: nothing outside the owner carries u0; Q carries u1.
    plan = plan_for(FILE, [P], uid_holders={"u1": (Q,)})
    assert not plan.actions, kinds(plan)
    by_uid: dict[str, list[str]] = {}
    for refusal in plan.refused:
        by_uid.setdefault(refusal.uid, []).append(refusal.reason)
    assert set(by_uid) == {"u0", "u1"}
    # u1: a duplicate naming both twins.
    (duplicate,) = by_uid["u1"]
    assert duplicate.startswith("duplicate:"), duplicate
    assert "2 companies carry reconcile.uid=u1" in duplicate
    assert 'p "Acme"' in duplicate and 'q "Acme"' in duplicate
    # u0: not created, its company is probably one of them under an edited uid tag.
    assert len(by_uid["u0"]) == 2
    for reason, twin in zip(sorted(by_uid["u0"]), ("p", "q"), strict=True):
        assert reason.startswith("not created: looks like this customer's company"), reason
        assert f"restore the tag reconcile.uid=u0 on company {twin}" in reason


def test_without_an_untagged_twin_the_second_acme_is_created() -> None:
    plan = plan_for(FILE, [P])
    assert kinds(plan) == [Kind.CREATE_COMPANY]
    assert plan.actions[0].uid == "u0" and not plan.refused


def test_another_owners_company_is_never_a_twin() -> None:
    theirs = company("u1", id="r", name="Acme", owner="other")
    plan = plan_for(FILE, [P], uid_holders={"u1": (theirs,)})
    assert kinds(plan) == [Kind.CREATE_COMPANY]
    assert plan.actions[0].uid == "u0" and not plan.refused
