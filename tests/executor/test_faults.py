"""The executor against a served sandbox, with and without faults: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from reconcile.executor import ApplyResult, execute
from reconcile.facts.fleet import read_live
from reconcile.model import Customer, DesiredState, LiveState
from reconcile.planner import make_plan
from reconcile.plans import Plan
from tests.executor.helpers import OWNER, Answer, client, desired, in_process
from tests.support.sandbox_server import serve_sandbox


async def plan_and_apply(url: str, state: DesiredState) -> tuple[Plan, ApplyResult, LiveState]:
    async with client(url) as c:
        plan = make_plan(state, await read_live(c, state))
        result = await execute(plan, c, parallelism=8)
        return plan, result, await read_live(c, state)


def test_apply_converges(tmp_path: Path) -> None:
    state = desired(5, expenses=True, tags={"region": "uk"})
    with serve_sandbox(tmp_path / "s.db") as url:
        plan, result, live = asyncio.run(plan_and_apply(url, state))
        assert plan.summary()["create"] == 10
        assert result.ok and len(result.of("applied")) == 10
        assert len(live.companies) == 5
        assert not make_plan(state, live).has_changes


def test_failure_stops_only_that_customer(tmp_path: Path) -> None:
    """A failed action skips that customer's later actions; other customers go on."""

    async def go(url: str) -> ApplyResult:
        async with client(url) as c:
            bare = DesiredState(
                OWNER, tuple(Customer(uid=f"cus-{i}", name=f"Customer {i}") for i in range(2))
            )
            assert (await execute(make_plan(bare, await read_live(c, bare)), c)).ok
            wanted = DesiredState(
                OWNER,
                tuple(
                    Customer(uid=f"cus-{i}", name=f"Renamed {i}", accounting="gbol")
                    for i in range(2)
                ),
            )
            plan = make_plan(wanted, await read_live(c, wanted))
            victim = next(ch.company_id for ch in plan.changes if ch.uid == "cus-0")
            assert victim is not None
            await c.delete_company(victim)  # gone between plan and apply
            return await execute(plan, c)

    with serve_sandbox(tmp_path / "s.db") as url:
        result = asyncio.run(go(url))
    outcomes = sorted((o.action.uid, o.action.kind.value, o.status) for o in result.outcomes)
    assert outcomes == [
        ("cus-0", "create_connection", "skipped"),
        ("cus-0", "update_company", "failed"),
        ("cus-1", "create_connection", "applied"),
        ("cus-1", "update_company", "applied"),
    ]
    failed = result.of("failed")[0]
    assert failed.correlation_id and "404" in failed.detail


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault", ["--error-rate", "--throttle-rate", "--drop-rate", "--lost-response-rate"]
)
def test_faults_never_lose_or_duplicate(tmp_path: Path, fault: str) -> None:
    state = desired(12, expenses=True)
    with serve_sandbox(tmp_path / "s.db", fault, "0.3", "--seed", "11") as url:
        plan, result, live = asyncio.run(plan_and_apply(url, state))
    assert result.ok, [o.detail for o in result.of("failed")]
    assert plan.summary()["create"] == 24  # 12 companies + 12 accounting connections
    uids = sorted(c.uid or "" for c in live.companies)
    assert uids == [f"cus-{i:03}" for i in range(12)]  # each exactly once
    for company in live.companies:
        accounting = [c for c in company.connections if c.is_accounting]
        assert len(accounting) == 1, company
    assert not make_plan(state, live).has_changes


def test_lost_create_response_is_recovered_by_reading_the_uid_tag(tmp_path: Path) -> None:
    """No retries at all: the create commits, its answer is lost, and a re-read finds it."""

    def script(method: str, path: str, n: int, key: str | None) -> Answer:
        return "lost" if (method, path, n) == ("POST", "/companies", 0) else "pass"

    codat, _app = in_process(tmp_path, script, max_attempts=1)
    state = desired(1)

    async def go() -> ApplyResult:
        async with codat as c:
            plan = make_plan(state, await read_live(c, state))
            change = plan.changes[0]
            only_create = Plan(plan.owner, (replace(change, actions=change.actions[:1]),))
            return await execute(only_create, c)

    result = asyncio.run(go())
    (outcome,) = result.outcomes
    assert outcome.status == "applied" and outcome.detail == "confirmed by re-reading"
    assert companies_in(tmp_path / "s.db") == 1


def test_two_applies_at_once_create_each_company_once(tmp_path: Path) -> None:
    """The second apply's POSTs meet the first's keys in flight (409) and wait for the replay."""
    state = desired(4)

    async def go(url: str) -> tuple[list[ApplyResult], LiveState]:
        async with client(url) as a, client(url) as b:
            plan_a = make_plan(state, await read_live(a, state))
            plan_b = make_plan(state, await read_live(b, state))
            results = await asyncio.gather(execute(plan_a, a), execute(plan_b, b))
            return list(results), await read_live(a, state)

    with serve_sandbox(tmp_path / "s.db", "--latency-ms", "300") as url:
        results, live = asyncio.run(go(url))
    assert all(r.ok for r in results), [o.detail for r in results for o in r.of("failed")]
    assert sorted(c.uid or "" for c in live.companies) == [f"cus-{i:03}" for i in range(4)]
    assert all(len(c.connections) == 1 for c in live.companies)


def test_stale_replay_of_a_deleted_company_is_sent_again(tmp_path: Path) -> None:
    """Within Codat's 90-minute replay window, a recreated company must be really recreated."""
    state = desired(1)

    async def go(url: str) -> tuple[ApplyResult, LiveState]:
        async with client(url) as c:
            first = await execute(make_plan(state, await read_live(c, state)), c)
            assert first.ok
            (company,) = (await read_live(c, state)).companies
            await c.delete_company(company.id)
            await asyncio.sleep(2.1)  # Date has whole seconds, read_at steps back one
            again = await execute(make_plan(state, await read_live(c, state)), c)
            return again, await read_live(c, state)

    with serve_sandbox(tmp_path / "s.db") as url:
        result, live = asyncio.run(go(url))
    assert result.ok
    assert len(live.companies) == 1 and len(live.companies[0].connections) == 1
    assert not make_plan(state, live).has_changes


def test_expense_config_flip_flop_is_really_written(tmp_path: Path) -> None:
    from reconcile.model import ExpenseConfig

    def wanting(bank: str) -> DesiredState:
        return DesiredState(
            OWNER,
            (
                Customer(
                    uid="cfg",
                    name="Config Co",
                    accounting="gbol",
                    expense_config=ExpenseConfig(bank, "124", "140"),
                ),
            ),
        )

    async def go(url: str, db: Path) -> list[str | None]:
        seen: list[str | None] = []
        async with client(url) as c:
            await execute(make_plan(wanting("89"), await read_live(c, wanting("89"))), c)
            from reconcile.sandbox.store import Store

            store = Store(db)
            (company,) = store.find_companies_by_tag("reconcile.uid", "cfg")
            conn_id = company["dataConnections"][0]["id"]
            store.set_connection_status(company["id"], conn_id, "Linked")
            store.close()
            for bank in ("89", "90", "89", "90"):
                state = wanting(bank)
                result = await execute(make_plan(state, await read_live(c, state)), c)
                assert result.ok, [o.detail for o in result.of("failed")]
                config = (await read_live(c, state)).expense_configs[company["id"]]
                seen.append(config.bank_account if config else None)
        return seen

    db = tmp_path / "s.db"
    with serve_sandbox(db) as url:
        assert asyncio.run(go(url, db)) == ["89", "90", "89", "90"]


def test_converges_when_codat_omits_integration_key(tmp_path: Path) -> None:
    """Connections are matched by platformName when integrationKey is absent on the wire."""
    state = desired(3, expenses=True)
    with serve_sandbox(tmp_path / "s.db", "--omit-integration-key") as url:
        _plan, result, live = asyncio.run(plan_and_apply(url, state))
    assert result.ok
    connections = [c for company in live.companies for c in company.connections]
    assert connections and all(c.integration_key is None for c in connections)
    assert not make_plan(state, live).has_changes


def companies_in(db: Path) -> int:
    from reconcile.sandbox.store import Store

    store = Store(db)
    try:
        return store.count_companies()
    finally:
        store.close()


def test_unknown_landing_never_sends_a_second_create(tmp_path: Path) -> None:
    """The create commits but its answer is lost, every retry answers 503, and the uid read
    fails too: the executor must not send it again under a fresh key."""

    first_key: list[str | None] = []

    def script(method: str, path: str, n: int, key: str | None) -> Answer:
        if path != "/companies":
            return "pass"
        if method == "POST":
            if n == 0:
                first_key.append(key)
                return "lost"
            return 503 if key == first_key[0] else "pass"  # a fresh key would go through
        return 503 if first_key else "pass"  # the plan's reads pass; the check-reads fail

    client_, _app = in_process(tmp_path, script)
    db = tmp_path / "s.db"
    state = desired(1)

    async def go() -> ApplyResult:
        async with client_ as c:
            return await execute(make_plan(state, await read_live(c, state)), c)

    result = asyncio.run(go())
    (outcome, *_rest) = result.outcomes
    assert outcome.status == "failed" and "run plan again" in outcome.detail
    assert companies_in(db) == 1


def test_confirmed_absent_after_5xx_is_sent_once_more_under_a_fresh_key(tmp_path: Path) -> None:
    """Codat replays a keyed 5xx for 90 minutes: once the uid read shows nothing landed, a
    fresh key gets a real answer."""
    keys: list[str | None] = []

    def script(method: str, path: str, n: int, key: str | None) -> Answer:
        if method == "POST" and path == "/companies":
            return 500 if n < 3 else "pass"  # the three attempts under the first key
        return "pass"

    client_, _app = in_process(tmp_path, script)
    db = tmp_path / "s.db"
    state = desired(1)

    async def go() -> ApplyResult:
        async with client_ as c:
            original = c.request

            async def spy(method: str, path: str, **kw: object) -> object:
                if method == "POST" and path == "/companies":
                    keys.append(kw.get("idempotency_key"))  # type: ignore[arg-type]
                return await original(method, path, **kw)  # type: ignore[arg-type]

            c.request = spy  # type: ignore[method-assign, assignment]
            plan = make_plan(state, await read_live(c, state))
            return await execute(
                replace(
                    plan, changes=(replace(plan.changes[0], actions=plan.changes[0].actions[:1]),)
                ),
                c,
            )

    result = asyncio.run(go())
    assert [o.status for o in result.outcomes] == ["applied"]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert companies_in(db) == 1
