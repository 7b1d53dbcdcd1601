"""Issue 7: a destructive write goes out only against the state the plan saw; a write someone
else already made settles as done. Through a served sandbox, with Codat changed between plan
and apply by the sandbox's own store (as the customer or another operator would)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from reconcile.executor import ApplyResult, execute
from reconcile.facts.fleet import read_live
from reconcile.model import Customer, DesiredState, LiveState, Policy
from reconcile.planner import PlanOptions, make_plan
from reconcile.plans import Plan
from reconcile.sandbox.store import Store
from tests.executor.helpers import OWNER, client, desired
from tests.support.sandbox_server import serve_sandbox


def set_status(db: Path, company_id: str, connection_id: str, status: str) -> None:
    store = Store(db)
    try:
        store.set_connection_status(company_id, connection_id, status)
    finally:
        store.close()


async def setup(url: str, state: DesiredState) -> LiveState:
    async with client(url) as c:
        assert (await execute(make_plan(state, await read_live(c, state)), c)).ok
        return await read_live(c, state)


async def plan_then(
    url: str,
    state: DesiredState,
    between: Callable[[Plan], None],
    options: PlanOptions | None = None,
) -> tuple[Plan, ApplyResult, LiveState]:
    """Plan, let `between(plan)` change Codat, apply the plan, read again."""
    async with client(url) as c:
        plan = make_plan(state, await read_live(c, state), options)
        between(plan)
        result = await execute(plan, c)
        return plan, result, await read_live(c, state)


def kinds(result: ApplyResult) -> list[tuple[str, str]]:
    return [(o.action.kind.value, o.status) for o in result.outcomes]


def test_a_connection_authorized_after_the_plan_is_not_deleted(tmp_path: Path) -> None:
    """Event 3: the plan deletes a PendingAuth Xero connection (platform changed); the customer
    authorizes it before apply. The delete is refused, the rest of the customer skipped."""
    db = tmp_path / "s.db"
    with serve_sandbox(db) as url:
        (company,) = asyncio.run(setup(url, desired(1))).companies
        (xero,) = company.connections
        assert xero.status == "PendingAuth"

        def authorize(plan: Plan) -> None:
            assert [a.kind.value for a in plan.actions] == [
                "delete_connection",
                "create_connection",
            ]
            set_status(db, company.id, xero.id, "Linked")

        _plan, result, live = asyncio.run(plan_then(url, desired(1, accounting="qhyg"), authorize))
    assert kinds(result) == [("delete_connection", "refused"), ("create_connection", "skipped")]
    assert "Linked now" in result.outcomes[0].detail
    assert "never deleted" in result.outcomes[0].detail
    assert not result.ok
    (after,) = live.companies
    assert [(c.id, c.status) for c in after.connections] == [(xero.id, "Linked")]


@pytest.mark.parametrize(
    ("now", "status", "detail"),
    [
        ("Deauthorized", "refused", "it is Deauthorized now (the plan saw it Linked)"),
        ("Unlinked", "applied", "already unlinked"),
    ],
)
def test_an_unlink_checks_the_connection_first(
    tmp_path: Path, now: str, status: str, detail: str
) -> None:
    """The plan unlinks a Linked connection (its customer left the file). By the time apply
    runs it is Deauthorized (refused, saying what changed) or someone unlinked it already
    (done, nothing sent)."""
    db = tmp_path / "s.db"
    with serve_sandbox(db) as url:
        live = asyncio.run(setup(url, desired(2)))
        leaving = next(c for c in live.companies if c.uid == "cus-000")
        (conn,) = leaving.connections
        set_status(db, leaving.id, conn.id, "Linked")
        # policy: prune (issue 15): a Linked customer leaving the file is otherwise kept
        staying = DesiredState(OWNER, desired(2).customers[1:], policy=Policy(prune=True))

        def change(plan: Plan) -> None:
            assert [a.kind.value for a in plan.actions] == ["unlink_connection"]
            set_status(db, leaving.id, conn.id, now)

        _plan, result, _live = asyncio.run(plan_then(url, staying, change))
    (outcome,) = result.outcomes
    assert outcome.status == status
    assert outcome.detail.startswith(detail)


def test_a_company_delete_is_refused_when_its_connections_changed(tmp_path: Path) -> None:
    """state: deleted; between plan and apply the customer authorizes: the company (with its
    now Linked connection) is not deleted."""
    db = tmp_path / "s.db"
    with serve_sandbox(db) as url:
        (company,) = asyncio.run(setup(url, desired(1))).companies
        (conn,) = company.connections
        gone = DesiredState(OWNER, (Customer("cus-000", "Customer 0", state="deleted"),))

        def authorize(plan: Plan) -> None:
            assert [a.kind.value for a in plan.actions] == ["delete_company"]
            set_status(db, company.id, conn.id, "Linked")

        options = PlanOptions(allow_delete=True)
        _plan, result, live = asyncio.run(plan_then(url, gone, authorize, options))
    (outcome,) = result.outcomes
    assert outcome.status == "refused", outcome
    assert "connections changed" in outcome.detail and "Linked" in outcome.detail
    assert [c.id for c in live.companies] == [company.id]


def test_a_company_delete_goes_out_when_nothing_changed(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with serve_sandbox(db) as url:
        asyncio.run(setup(url, desired(1)))
        gone = DesiredState(OWNER, (Customer("cus-000", "Customer 0", state="deleted"),))
        options = PlanOptions(allow_delete=True)
        _plan, result, live = asyncio.run(plan_then(url, gone, lambda plan: None, options))
    assert kinds(result) == [("delete_company", "applied")]
    assert not live.companies


def test_two_applies_at_once_both_succeed_and_converge(tmp_path: Path) -> None:
    """Event 5: apply A planned before the companies existed, apply B after another run made
    them. Their connection creates carry different keys; one meets Codat's 400 "Only one active
    accounting connection". That 400 is checked: the wanted connection exists, so it is done."""
    state = desired(4)
    bare = desired(4, accounting=None)

    async def go(url: str) -> tuple[list[ApplyResult], LiveState]:
        async with client(url) as a, client(url) as b:
            plan_a = make_plan(state, await read_live(a, state))
            assert (await execute(make_plan(bare, await read_live(a, bare)), a)).ok
            plan_b = make_plan(state, await read_live(b, state))
            assert plan_a.summary()["create"] == 8 and plan_b.summary()["create"] == 4
            results = await asyncio.gather(execute(plan_a, a), execute(plan_b, b))
            return list(results), await read_live(a, state)

    with serve_sandbox(tmp_path / "s.db", "--latency-ms", "200") as url:
        results, live = asyncio.run(go(url))
    assert all(r.ok for r in results), [o.detail for r in results for o in r.outcomes]
    assert any(o.detail == "already in place" for r in results for o in r.outcomes)
    assert sorted(c.uid or "" for c in live.companies) == [f"cus-{i:03}" for i in range(4)]
    assert all(len(c.connections) == 1 for c in live.companies)
    assert not make_plan(state, live).has_changes
