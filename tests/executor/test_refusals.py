"""A write Codat refused did not land: once its cause is fixed, the next apply of the same plan
must not get the old refusal replayed (Codat keeps a key's first answer for 90 minutes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reconcile.executor import ApplyResult, execute
from reconcile.facts.fleet import read_live
from reconcile.model import Customer, DesiredState, ExpenseConfig
from reconcile.planner import make_plan
from tests.executor.helpers import OWNER, Answer, client, desired, in_process
from tests.executor.test_guards import set_status, setup
from tests.support.sandbox_server import serve_sandbox


def test_a_refused_config_goes_through_once_its_cause_is_fixed(tmp_path: Path) -> None:
    """The config is refused (400: no Linked accounting connection, the customer deauthorized
    between plan and apply); the customer authorizes again; the same plan applied again sets
    the config instead of replaying the 400 with its old correlationId."""
    db = tmp_path / "s.db"
    config = ExpenseConfig("89", "124", "140")
    wanted = DesiredState(
        OWNER, (Customer("cus-000", "Customer 0", accounting="gbol", expense_config=config),)
    )

    async def go(url: str) -> tuple[ApplyResult, ApplyResult, ExpenseConfig | None]:
        async with client(url) as c:
            plan = make_plan(wanted, await read_live(c, wanted))
            assert [a.kind.value for a in plan.actions] == ["set_expense_config"]
            set_status(db, company.id, conn.id, "Deauthorized")
            refused = await execute(plan, c)
            set_status(db, company.id, conn.id, "Linked")
            again = await execute(plan, c)
            return refused, again, await c.get_expense_config(company.id)

    with serve_sandbox(db) as url:
        (company,) = asyncio.run(setup(url, desired(1))).companies
        (conn,) = company.connections
        set_status(db, company.id, conn.id, "Linked")
        refused, again, live = asyncio.run(go(url))
    (first,) = refused.outcomes
    assert first.status == "failed" and "400" in first.detail and first.correlation_id
    (second,) = again.outcomes
    assert second.status == "applied", second.detail
    assert live == config


def test_a_refused_company_create_is_not_sent_again(tmp_path: Path) -> None:
    """Unlike a connection (Codat keeps one active) or a config (idempotent by nature), a
    second company create could make a duplicate when two applies each resend: a refused
    create fails, with one POST only; a new body (the fix) gets a new key anyway."""
    posts: list[str | None] = []

    def script(method: str, path: str, n: int, key: str | None) -> Answer:
        if method == "POST" and path == "/companies":
            posts.append(key)
            return 400
        return "pass"

    codat, _app = in_process(tmp_path, script)
    state = desired(1)

    async def go() -> ApplyResult:
        async with codat as c:
            return await execute(make_plan(state, await read_live(c, state)), c)

    result = asyncio.run(go())
    assert [o.status for o in result.outcomes] == ["failed", "skipped"]
    assert len(posts) == 1
