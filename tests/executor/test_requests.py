"""reconcile.plans.requests: every request the planner makes is what its action's fields
mean, and a request that differs is named as edited."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from reconcile.executor import ApplyResult, execute
from reconcile.facts.fleet import read_live
from reconcile.model import Customer, DesiredState, LiveState
from reconcile.planner import make_plan
from reconcile.plans import Action, CustomerChange, Kind, Plan, Request
from reconcile.plans.requests import edited_actions, rebuilt
from tests.executor.helpers import OWNER, client, desired
from tests.executor.test_guards import setup
from tests.plans.file.test_saved_json import rich_plan
from tests.support.sandbox_server import serve_sandbox


@pytest.mark.parametrize("kind", list(Kind))
def test_every_planned_request_is_rebuilt_from_kind_ids_and_after(kind: Kind) -> None:
    plan = rich_plan()
    actions = [a for a in plan.actions if a.kind is kind]
    assert actions
    for action in actions:
        assert rebuilt(plan.owner, action) == action.request
    assert edited_actions(plan) == []


def _with(plan: Plan, edit: object) -> Plan:
    """`plan` with its first update_company action replaced by `edit(action)`."""
    changes = []
    done = False
    for change in plan.changes:
        actions = []
        for action in change.actions:
            if not done and action.kind is Kind.UPDATE_COMPANY:
                action = edit(action)  # type: ignore[operator]
                done = True
            actions.append(action)
        changes.append(replace(change, actions=tuple(actions)))
    return replace(plan, changes=tuple(changes))


def test_a_rename_carrying_a_delete_is_named() -> None:
    plan = rich_plan()

    def to_delete(action: Action) -> Action:
        return replace(action, request=Request("DELETE", f"/companies/{action.company_id}"))

    (line,) = edited_actions(_with(plan, to_delete))
    assert "update_company" in line and "DELETE" in line


def test_a_body_other_than_after_is_named() -> None:
    def other_body(action: Action) -> Action:
        body = {**action.request.body, "name": "Evil Corp"}
        return replace(action, request=replace(action.request, body=body))

    assert len(edited_actions(_with(rich_plan(), other_body))) == 1


def test_an_action_filed_under_another_customer_is_named() -> None:
    plan = rich_plan()
    first, second = plan.changes[0], plan.changes[1]
    moved = CustomerChange(
        first.uid, first.name, first.verdict, first.company_id, (*first.actions, *second.actions)
    )
    found = edited_actions(replace(plan, changes=(moved, *plan.changes[2:])))
    assert found and all("filed under customer" in line for line in found)


def test_protection_is_the_one_bit_taken_from_a_create() -> None:
    plan = rich_plan()
    create = next(a for a in plan.actions if a.kind is Kind.CREATE_COMPANY)
    tags = {**create.request.body["tags"], "reconcile.protect": "true"}
    protected = replace(
        create, request=replace(create.request, body={**create.request.body, "tags": tags})
    )
    assert rebuilt(plan.owner, protected) == protected.request
    other = {**create.request.body["tags"], "reconcile.owner": "someone-else"}
    hijacked = replace(
        create, request=replace(create.request, body={**create.request.body, "tags": other})
    )
    assert rebuilt(plan.owner, hijacked) != hijacked.request


def test_the_executor_sends_the_rebuilt_request_never_the_stored_one(tmp_path: Path) -> None:
    """A plan (even one made in memory) whose rename carries a DELETE renames the company."""
    renamed = DesiredState(OWNER, (Customer("cus-000", "Customer Renamed", accounting="gbol"),))

    async def go(url: str) -> tuple[ApplyResult, LiveState]:
        async with client(url) as c:
            plan = make_plan(renamed, await read_live(c, renamed))
            (action,) = plan.actions
            assert action.kind is Kind.UPDATE_COMPANY
            forged = replace(action, request=Request("DELETE", f"/companies/{action.company_id}"))
            result = await execute(_with(plan, lambda _: forged), c)
            return result, await read_live(c, renamed)

    with serve_sandbox(tmp_path / "s.db") as url:
        asyncio.run(setup(url, desired(1)))
        result, live = asyncio.run(go(url))
    assert [o.status for o in result.outcomes] == ["applied"]
    (company,) = live.companies
    assert company.name == "Customer Renamed"
